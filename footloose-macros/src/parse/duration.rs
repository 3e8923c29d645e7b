//! Durations as the attribute takes them: `"90s"`, `"2m"`, `"1h"`,
//! `"500ms"`.

use std::time::Duration;

/// The units, with how many milliseconds each is.
const UNITS: [(&str, u64); 4] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

/// Reads a whole number followed by its unit (`ms`, `s`, `m` or `h`);
/// the error says what was wrong, for the attribute to show at the value.
pub fn parse(text: &str) -> Result<Duration, String> {
    let usage =
        "write a whole number and its unit, such as \"90s\", \"2m\" or \"1h\" (units: ms, s, m, h)";
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let Some(&(_, millis_per_unit)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(format!("not a duration: {usage}"));
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("not a duration: {usage}"))?;
    let millis = number
        .checked_mul(millis_per_unit)
        .ok_or_else(|| "that duration is too long".to_owned())?;
    if millis == 0 {
        return Err("the machines need more than no time to become ready".to_owned());
    }
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_units_are_durations() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1500ms"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn anything_else_says_how_to_write_one() {
        for text in ["90", "", "s", "1.5m", "90 s", " 90s", "-1s", "2d", "1m30s"] {
            let error = parse(text).unwrap_err();
            assert!(error.contains("such as \"90s\""), "{text:?}: {error}");
        }
        assert!(parse("0s").unwrap_err().contains("more than no time"));
        assert!(parse("99999999999999999h")
            .unwrap_err()
            .contains("too long"));
    }
}
