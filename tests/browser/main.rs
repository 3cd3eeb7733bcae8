//! Tests that need programs besides Rust: headless Chromium driven through chromedriver against
//! the real binary, and the restic restore drill. A test binary of their own, so that a machine
//! without those programs reports the tests as *ignored* (with the reason) instead of as passed.
//! Under CI (`CI` set) a missing program is a failure; `.ci/run` installs them.
//!
//! Why a harness of our own (libtest-mimic): the standard harness cannot skip a test at run
//! time; a test that returns early is reported as passed.

#[path = "../util.rs"]
mod util;

#[path = "../smtp.rs"]
mod smtp;

mod chromium;
mod drill;
mod pages;
mod stories;

use libtest_mimic::{Arguments, Trial};

/// A test: its name, body, whether what it needs is installed, and what to say when not.
type Test = (&'static str, fn(), bool, &'static str);

fn main() {
    let args = Arguments::from_args();
    let in_ci = std::env::var_os("CI").is_some();
    let chromium = chromium::installed().is_some();
    let restic = drill::restic().is_some();
    for (available, what, package) in [
        (
            chromium,
            "Chromium or chromedriver",
            "chromium chromium-driver",
        ),
        (restic, "restic", "restic"),
    ] {
        if !available {
            if in_ci {
                eprintln!(
                    "CI is set but {what} is missing: install the Debian package(s) {package}"
                );
            } else {
                eprintln!(
                    "Tests that need {what} are ignored: it is not installed (apt-get install {package})"
                );
            }
        }
    }
    let tests: &[Test] = &[
        (
            "staff_signs_in_and_sees_the_inbox",
            stories::staff_signs_in_and_sees_the_inbox,
            chromium,
            "Chromium or chromedriver is not installed",
        ),
        (
            "visitor_submits_and_follows_the_ticket",
            stories::visitor_submits_and_follows_the_ticket,
            chromium,
            "Chromium or chromedriver is not installed",
        ),
        (
            "contact_signs_up_and_follows_a_ticket",
            stories::contact_signs_up_and_follows_a_ticket,
            chromium,
            "Chromium or chromedriver is not installed",
        ),
        (
            "every_page_fits_and_passes_axe",
            pages::every_page_fits_and_passes_axe,
            chromium,
            "Chromium or chromedriver is not installed",
        ),
        (
            "restic_backup_wipe_restore_serve",
            drill::restic_backup_wipe_restore_serve,
            restic,
            "restic is not installed",
        ),
    ];
    let trials = tests
        .iter()
        .map(|(name, test, available, missing)| {
            let (test, available, missing) = (*test, *available, *missing);
            Trial::test(*name, move || {
                if !available {
                    return Err(missing.into());
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
