//! Reads `template.yaml` for what runs where: each function's binary and, for HTTP functions,
//! its route. The template uses CloudFormation tags (`!Ref`) that plain YAML parsers reject, so
//! this reads the regular shape the template is written in: `Binary:` under a function's
//! `Metadata`, then `Method:` and `Path:` in its `HttpApi` event.

/// The template, compiled in, so the gateway always serves what the template deploys.
pub const TEMPLATE: &str = include_str!("../../template.yaml");

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TemplateFunction {
    pub binary: String,
    /// `(method, path)` for HTTP functions, e.g. `("GET", "/concerts/{concertId}/...")`.
    pub route: Option<(String, String)>,
}

/// Every function of the template, in template order.
pub fn functions(template: &str) -> Vec<TemplateFunction> {
    let lines: Vec<&str> = template.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(binary) = line.trim().strip_prefix("Binary:") else { continue };
        // The function's block ends at the next resource (two-space indented key).
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with("  ") && !l.starts_with("   ") && l.trim_end().ends_with(':'))
            .map_or(lines.len(), |p| i + 1 + p);
        let value = |key: &str| lines[i..end].iter().find_map(|l| l.trim().strip_prefix(key)).map(|v| v.trim().to_owned());
        let route = value("Method:").zip(value("Path:"));
        found.push(TemplateFunction { binary: binary.trim().to_owned(), route });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_binaries_and_routes() {
        let all = functions(TEMPLATE);
        let seats = all.iter().find(|f| f.binary == "list-seats").unwrap();
        assert_eq!(seats.route, Some(("GET".into(), "/concerts/{concertId}/schedules/{scheduleId}/seats".into())));
        assert_eq!(all.iter().find(|f| f.binary == "activate-queue").unwrap().route, None);
    }
}
