//! Browser tests: headless Chromium driven through chromedriver against the real binary, in a
//! test binary of their own so that a machine without Chromium reports them as *ignored* (with
//! the reason) instead of as passed. Under CI (`CI` set) a missing Chromium is a failure.
//!
//! Why a harness of our own (libtest-mimic): the standard harness cannot skip a test at run
//! time; a test that returns early is reported as passed.

#[path = "../util.rs"]
mod util;

#[path = "../smtp.rs"]
mod smtp;

mod chromium;
mod pages;
mod stories;

use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    let available = chromium::installed().is_some();
    let in_ci = std::env::var_os("CI").is_some();
    if !available {
        if in_ci {
            eprintln!(
                "CI is set but Chromium/chromedriver are missing: install the Debian packages chromium and chromium-driver"
            );
        } else {
            eprintln!(
                "Browser tests ignored: Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)"
            );
        }
    }
    let tests: &[(&str, fn())] = &[
        (
            "staff_signs_in_and_sees_the_inbox",
            stories::staff_signs_in_and_sees_the_inbox,
        ),
        (
            "visitor_submits_and_follows_the_ticket",
            stories::visitor_submits_and_follows_the_ticket,
        ),
        (
            "contact_signs_up_and_follows_a_ticket",
            stories::contact_signs_up_and_follows_a_ticket,
        ),
        (
            "every_page_fits_and_passes_axe",
            pages::every_page_fits_and_passes_axe,
        ),
    ];
    let trials = tests
        .iter()
        .map(|(name, test)| {
            let test = *test;
            Trial::test(*name, move || {
                if !available {
                    return Err("Chromium or chromedriver is not installed".into());
                }
                std::panic::catch_unwind(test).map_err(|panic| {
                    panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "the test panicked".into())
                        .into()
                })
            })
            .with_ignored_flag(!available && !in_ci)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
