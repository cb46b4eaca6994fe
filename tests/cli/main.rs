//! Integration tests: run the `mlcost` binary on hand-made fixtures and check the numbers.

mod attribute;
mod bad_inputs;
mod economics;
mod errors;
mod formats;
mod inputs;
mod planning;
mod reliability;
mod rules;
mod sample;
mod sample_shapes;
mod sql;
mod trend;
mod util;
mod validate;
