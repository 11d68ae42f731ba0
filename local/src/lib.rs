//! Running the system on one machine. The binaries:
//!
//! - `seed`: loads demo concerts into Redis (the shape of the seed load test: 50 seats per
//!   schedule).
