//! Integration tests: run the `mlcost` binary on hand-made fixtures and check the numbers.

mod architecture;
mod attribute;
mod bad_inputs;
mod csv_input;
mod dimensions;
mod docs;
mod economics;
mod errors;
mod focus_datasets;
mod formats;
mod inputs;
mod memory;
mod objects;
mod pinned;
mod planning;
mod reliability;
mod report_browser;
mod rules;
mod sample;
mod sample_shapes;
mod sql;
mod trend;
mod trust;
mod util;
mod validate;
mod warehouse;
