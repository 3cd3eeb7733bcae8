//! The url-encoded form decoder: any bytes give fields without control characters (but tab and
//! line breaks), `line` gives one line, and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porchlight::web::forms::Form;

fuzz_target!(|data: &[u8]| {
    let form = Form::from_urlencoded(data);
    for (name, value) in form.values() {
        assert!(
            !value
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
            "a control character in {name}"
        );
        let line = form.line(&name);
        assert!(!line.contains(['\n', '\r', '\t']));
    }
});
