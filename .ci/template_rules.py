"""Rules for template.yaml that cfn-lint and `sam validate --lint` do not check, run by .ci/run.

The template is expanded by the AWS SAM translator (as `sam deploy` would, with a placeholder
CodeUri) once for each Kafka set-up, and the expanded CloudFormation is checked:
- every function logs to a log group of the stack (LoggingConfig.LogGroup), so the group exists
  before the function can write and Lambda never creates one the stack would then collide with;
- every Kafka event source mapping has a StartingPosition (required for Kafka sources);
- a partial batch response is asked for only in provisioned mode (the only mode where Lambda offers
  it for Kafka), and the function is told whether it is honoured;
- scheduled functions outlast two schedule periods, are not retried by Lambda, and their schedules
  do not retry either;
- each function gets only the secret it uses;
- every alarm and dashboard widget on the service's own namespace names a metric the code emits
  (`EMITTED` in shared/src/metrics.rs), and every alarm tells someone (an SNS topic of the stack).
"""
import copy
import logging
import json
import os
import re
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
logging.getLogger("samtranslator").setLevel(logging.ERROR)
SCHEDULED = {"activate-queue", "expire-holds", "outbox-relay"}
TOKEN_SECRET = {"signup", "get-balance", "charge-balance", "issue-token", "get-challenge", "token-status", "leave-queue", "list-seats",
                "hold-seat", "pay", "my-reservations"}
ADMIN_SECRET = {"create-concert", "room-status", "room-report", "update-room", "add-codes", "sales-report"}
METRICS_RS = os.path.join(os.path.dirname(__file__), "..", "shared", "src", "metrics.rs")


def emitted():
    """The metric names shared/src/metrics.rs lists in EMITTED, and its namespace."""
    source = open(METRICS_RS).read()
    listed = re.search(r"pub const EMITTED: &\[&str\] = &\[(.*?)\];", source, re.S).group(1)
    namespace = re.search(r'pub const NAMESPACE: &str = "([^"]+)";', source).group(1)
    return set(re.findall(r'"([^"]+)"', listed)), namespace


def check_metrics(template):
    """Alarms and the dashboard name only metrics the code emits; every alarm notifies."""
    problems = []
    names, namespace = emitted()
    resources = template["Resources"]
    topics = {n for n, r in resources.items() if r["Type"] == "AWS::SNS::Topic"}
    alarms = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    if not alarms:
        problems.append("no alarms")
    for name, a in alarms.items():
        stats = [a] + [m["MetricStat"]["Metric"] for m in a.get("Metrics", []) if "MetricStat" in m]
        for s in stats:
            if s.get("Namespace") == namespace and s.get("MetricName") not in names:
                problems.append(f"{name}: alarms on {s.get('MetricName')}, which nothing emits ({sorted(names)})")
        if not any(isinstance(t, dict) and t.get("Ref") in topics for t in a.get("AlarmActions", [])):
            problems.append(f"{name}: its AlarmActions name no SNS topic of the stack")
    for name, r in resources.items():
        if r["Type"] != "AWS::CloudWatch::Dashboard":
            continue
        body = r["Properties"]["DashboardBody"]
        body = body.get("Fn::Sub", body) if isinstance(body, dict) else body
        body = body[0] if isinstance(body, list) else body
        shown = re.findall(r'\[\s*"{0}"\s*,\s*"([A-Za-z]+)"'.format(namespace), body)
        shown += re.findall(r'\{{{0},[A-Za-z]+\}} MetricName=\\?"([A-Za-z]+)'.format(namespace), body)
        if not shown:
            problems.append(f"{name}: no widget on the {namespace} namespace")
        for metric in shown:
            if metric not in names:
                problems.append(f"{name}: a widget shows {metric}, which nothing emits")
    return problems


class ManagedPolicies:
    def load(self):
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in ["AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"]}


def expand(template, parameters):
    template = copy.deepcopy(template)
    template["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
    return transform(template, parameters, ManagedPolicies())


def resolve(value, conditions):
    """Resolves Fn::If on the given condition values; other intrinsics stay as they are."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, yes, no = value["Fn::If"]
            chosen = resolve(yes if conditions[name] else no, conditions)
            return None if chosen == {"Ref": "AWS::NoValue"} else chosen
        return {k: v for k, v in ((k, resolve(v, conditions)) for k, v in value.items()) if v is not None}
    if isinstance(value, list):
        return [v for v in (resolve(v, conditions) for v in value) if v is not None]
    return value


def check(template, mode, pollers):
    problems = []
    out = expand(template, {"KafkaMode": mode, "KafkaPollers": pollers})
    conditions = {"UseMsk": mode == "MSK", "UseSelfManagedKafka": mode == "SelfManaged", "UseProvisionedPollers": pollers != 0,
                  "UseMskIam": False}
    resources = {name: resolve(r, conditions) for name, r in out["Resources"].items() if conditions.get(r.get("Condition"), True)}
    groups = {name for name, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    binaries = {name: template["Resources"][name]["Metadata"]["BuildProperties"]["Binary"] for name in functions}
    for name, f in functions.items():
        props, binary = f["Properties"], binaries[name]
        group = props.get("LoggingConfig", {}).get("LogGroup")
        if not (isinstance(group, dict) and group.get("Ref") in groups):
            problems.append(f"{binary}: LoggingConfig.LogGroup must name a log group of the stack, got {group}")
        env = props.get("Environment", {}).get("Variables", {})
        wanted = "AUTH_SECRET_ID" if binary in TOKEN_SECRET else "ADMIN_KEY_ID" if binary in ADMIN_SECRET else None
        given = {k for k in env if k in ("AUTH_SECRET_ID", "ADMIN_KEY_ID", "AUTH_SECRET", "ADMIN_KEY")}
        if given != ({wanted} if wanted else set()):
            problems.append(f"{binary}: secrets {sorted(given)}, expected {wanted}")
        if binary == "on-payment-completed":
            if env.get("KAFKA_PARTIAL_BATCH_RESPONSES") != ("true" if pollers else "false"):
                problems.append(f"{binary}: KAFKA_PARTIAL_BATCH_RESPONSES is {env.get('KAFKA_PARTIAL_BATCH_RESPONSES')} with {pollers} pollers")
        if binary in SCHEDULED:
            timeout = props.get("Timeout")
            timeout = template["Parameters"][timeout["Ref"]]["Default"] if isinstance(timeout, dict) else timeout
            if int(timeout) < 125:
                problems.append(f"{binary}: a run of {timeout} s leaves gaps when a schedule fires late (up to 60 s) or not at all")
            configs = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig" and r["Properties"]["FunctionName"] == {"Ref": name}]
            if not configs or configs[0]["Properties"].get("MaximumRetryAttempts") != 0:
                problems.append(f"{binary}: failed runs must not be retried (EventInvokeConfig.MaximumRetryAttempts: 0)")
            schedules = [r for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule" and json.dumps({"Fn::GetAtt": [name, "Arn"]}) in json.dumps(r)]
            if len(schedules) != 1 or schedules[0]["Properties"]["Target"].get("RetryPolicy", {}).get("MaximumRetryAttempts") != 0:
                problems.append(f"{binary}: needs one schedule without retries")
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    if len(mappings) != 1:
        problems.append(f"{mode}: expected one Kafka event source mapping, got {len(mappings)}")
    for m in mappings:
        if m.get("StartingPosition") not in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
            problems.append(f"{mode}: the Kafka mapping needs a StartingPosition")
        partial = "ReportBatchItemFailures" in m.get("FunctionResponseTypes", [])
        provisioned = "ProvisionedPollerConfig" in m
        if partial != provisioned or provisioned != bool(pollers):
            problems.append(f"{mode}, {pollers} pollers: provisioned={provisioned}, partial batch responses={partial}")
    return [f"[{mode}, KafkaPollers={pollers}] {p}" for p in problems]


def main():
    template, matches = decode(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    if matches:
        sys.exit(f"cannot read the template: {matches}")
    problems = [p for mode in ("SelfManaged", "MSK") for pollers in (0, 4) for p in check(template, mode, pollers)]
    problems += check_metrics(template)
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print("template rules: ok (SelfManaged and MSK, on-demand and provisioned)")


if __name__ == "__main__":
    main()
