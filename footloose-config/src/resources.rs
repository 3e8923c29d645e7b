//! The `resources:` of a machine's spec (a footloose extension): how much
//! CPU and memory the machine may use, and what those values are in the
//! units engines take (billionths of a CPU, bytes).

use serde::{Deserialize, Serialize};

/// The fewest CPUs a machine may be given: the kernel's CFS scheduler
/// grants at least 1 ms of every 100 ms period, a hundredth of a CPU.
const MIN_CPUS: f64 = 0.01;

/// How much CPU and memory a machine may use (`resources:` in a machine's
/// spec, a footloose extension). Both limits are optional; with neither,
/// the machine may use all of the host's, as it does without `resources:`.
///
/// ```
/// use footloose_config::Config;
///
/// let yaml = "cluster:\n  name: c\nmachines:\n- spec:\n    image: footloose/debian12\n    name: node%d\n    resources: {cpus: 1.5, memory: 512Mi}\n";
/// let config = Config::from_yaml(yaml, "footloose.yaml").unwrap();
/// let resources = &config.machines[0].spec.resources;
/// assert_eq!(resources.nano_cpus(), Ok(Some(1_500_000_000)));
/// assert_eq!(resources.memory_bytes(), Ok(Some(512 * 1024 * 1024)));
/// ```
///
/// Made in code, it is set field by field:
///
/// ```
/// let mut resources = footloose_config::Resources::default();
/// resources.cpus = Some(0.5);
/// resources.memory = Some("1G".to_owned());
/// assert_eq!(resources.memory_bytes(), Ok(Some(1_000_000_000)));
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct Resources {
    /// How many CPUs the machine may use, fractions allowed (`0.5`,
    /// `1.5`): from 0.01 up. A share of CPU time, not a set of CPUs: the
    /// machine still sees every CPU of the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// How much memory the machine may use, as written: a byte count
    /// (`268435456`) or a number with a suffix, `Ki`, `Mi`, `Gi`, `Ti`
    /// (powers of 1024) or `k`/`K`, `M`, `G`, `T` (powers of 1000), and
    /// optionally a trailing `B` (`512Mi`, `1.5Gi`, `1GB`). See
    /// [`parse_memory`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// `cpus` is compared bit for bit, so that equality is an equivalence
/// (and `MachineSpec` stays `Eq`).
impl PartialEq for Resources {
    fn eq(&self, other: &Self) -> bool {
        self.cpus.map(f64::to_bits) == other.cpus.map(f64::to_bits) && self.memory == other.memory
    }
}

impl Eq for Resources {}

impl Resources {
    /// True when it limits nothing: no `cpus`, no `memory`.
    ///
    /// ```
    /// assert!(footloose_config::Resources::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.cpus.is_none() && self.memory.is_none()
    }

    /// The CPU limit in billionths of a CPU (Docker's `NanoCpus`), `None`
    /// without one. An error only for a value that loading a file refuses
    /// (a configuration made in code is not checked until it is used).
    ///
    /// ```
    /// let mut resources = footloose_config::Resources::default();
    /// assert_eq!(resources.nano_cpus(), Ok(None));
    /// resources.cpus = Some(0.5);
    /// assert_eq!(resources.nano_cpus(), Ok(Some(500_000_000)));
    /// resources.cpus = Some(0.0);
    /// assert!(resources.nano_cpus().is_err());
    /// ```
    pub fn nano_cpus(&self) -> Result<Option<i64>, ResourcesError> {
        self.cpus.map(nano_cpus).transpose()
    }

    /// The memory limit in bytes, `None` without one. An error only for a
    /// value that loading a file refuses (see [`parse_memory`]).
    ///
    /// ```
    /// let mut resources = footloose_config::Resources::default();
    /// resources.memory = Some("256Mi".to_owned());
    /// assert_eq!(resources.memory_bytes(), Ok(Some(268_435_456)));
    /// ```
    pub fn memory_bytes(&self) -> Result<Option<i64>, ResourcesError> {
        self.memory.as_deref().map(parse_memory).transpose()
    }
}

/// Why a value of `resources:` cannot be used. Loading a file reports it
/// with the file, line, column and field, as every invalid value.
///
/// ```
/// use footloose_config::{parse_memory, ResourcesError};
///
/// assert_eq!(parse_memory("0"), Err(ResourcesError::NoMemory));
/// let err = parse_memory("512m").unwrap_err();
/// assert!(err.to_string().contains("use `Mi`"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourcesError {
    /// `cpus` is not a number from 0.01 up (or is not a number at all).
    #[error("`{cpus}` is not a number of CPUs: use one from 0.01 up, fractions allowed, such as 0.5 or 2")]
    Cpus {
        /// The value given.
        cpus: f64,
    },
    /// `cpus` is more than an engine can count in billionths of a CPU.
    #[error("`{cpus}` is more CPUs than an engine can limit a machine to")]
    TooManyCpus {
        /// The value given.
        cpus: f64,
    },
    /// `memory` is not a byte count, with or without a known suffix.
    #[error("`{text}` is not a memory size: use a byte count or a number with a suffix, `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024) or `K`, `M`, `G`, `T` (powers of 1000), such as 512Mi or 1G")]
    MemorySyntax {
        /// The value given.
        text: String,
    },
    /// `memory` ends in `m`, `g` or `t`: powers of 1024 to Docker's
    /// command line, but `m` is a thousandth to Kubernetes.
    #[error("`{text}` is not a memory size: `{unit}` is ambiguous; use `{binary}` (powers of 1024, as `docker run -m` reads `{unit}`) or `{decimal}` (powers of 1000)")]
    AmbiguousUnit {
        /// The value given.
        text: String,
        /// Its suffix.
        unit: String,
        /// The binary suffix it may mean, such as `Mi`.
        binary: &'static str,
        /// The decimal suffix it may mean, such as `M`.
        decimal: &'static str,
    },
    /// `memory` is a fraction of a byte, such as `0.1Ki`.
    #[error("`{text}` is not a whole number of bytes")]
    PartialByte {
        /// The value given.
        text: String,
    },
    /// `memory` is 0.
    #[error("must be more than 0 bytes")]
    NoMemory,
    /// `memory` is more bytes than an engine can count (8 EiB).
    #[error("`{text}` is more memory than an engine can limit a machine to (at most 8 EiB)")]
    TooMuchMemory {
        /// The value given.
        text: String,
    },
}

/// `cpus` CPUs in billionths of a CPU (Docker's `NanoCpus`), rounded to
/// the nearest: from 0.01 (the fewest the kernel grants) up.
///
/// ```
/// use footloose_config::nano_cpus;
///
/// assert_eq!(nano_cpus(1.5), Ok(1_500_000_000));
/// assert_eq!(nano_cpus(0.1), Ok(100_000_000));
/// assert!(nano_cpus(-1.0).is_err() && nano_cpus(f64::NAN).is_err() && nano_cpus(0.001).is_err());
/// ```
pub fn nano_cpus(cpus: f64) -> Result<i64, ResourcesError> {
    if cpus.is_nan() || cpus < MIN_CPUS {
        return Err(ResourcesError::Cpus { cpus });
    }
    let nano = (cpus * 1e9).round();
    // i64::MAX as f64 rounds up to 2^63, itself out of range.
    if nano >= i64::MAX as f64 {
        return Err(ResourcesError::TooManyCpus { cpus });
    }
    Ok(nano as i64)
}

/// The bytes that `text` means: a byte count (`268435456`) or a number,
/// fractions allowed, with a suffix `Ki`, `Mi`, `Gi`, `Ti` (powers of
/// 1024) or `k`/`K`, `M`, `G`, `T` (powers of 1000), optionally followed
/// by `B` (`512Mi`, `512MiB`, `1.5Gi`, `1G`, `100B`). More than 0 and at
/// most 8 EiB, a whole number of bytes. `m`, `g` and `t` are refused as
/// ambiguous: `docker run -m 512m` means `512Mi`, Kubernetes' `512m`
/// 0.512 bytes.
///
/// ```
/// use footloose_config::parse_memory;
///
/// assert_eq!(parse_memory("512Mi"), Ok(536_870_912));
/// assert_eq!(parse_memory("1G"), Ok(1_000_000_000));
/// assert_eq!(parse_memory("1.5KiB"), Ok(1536));
/// assert_eq!(parse_memory("268435456"), Ok(268_435_456));
/// assert!(parse_memory("lots").is_err() && parse_memory("512m").is_err());
/// ```
pub fn parse_memory(text: &str) -> Result<i64, ResourcesError> {
    let syntax = || ResourcesError::MemorySyntax {
        text: text.to_owned(),
    };
    let too_much = || ResourcesError::TooMuchMemory {
        text: text.to_owned(),
    };
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits_end);
    let unit = suffix.strip_suffix('B').unwrap_or(suffix);
    let multiplier: u128 = match unit {
        "" => 1,
        "k" | "K" => 1000,
        "M" => 1000u128.pow(2),
        "G" => 1000u128.pow(3),
        "T" => 1000u128.pow(4),
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "m" | "g" | "t" => {
            let (binary, decimal) = match unit {
                "m" => ("Mi", "M"),
                "g" => ("Gi", "G"),
                _ => ("Ti", "T"),
            };
            return Err(ResourcesError::AmbiguousUnit {
                text: text.to_owned(),
                unit: unit.to_owned(),
                binary,
                decimal,
            });
        }
        _ => return Err(syntax()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(syntax());
    }
    let fraction = fraction.trim_end_matches('0');
    // The number without its point, and the power of ten that it is over.
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| too_much())?
    };
    let scale = u32::try_from(fraction.len())
        .ok()
        .and_then(|n| 10u128.checked_pow(n))
        .ok_or_else(|| ResourcesError::PartialByte {
            text: text.to_owned(),
        })?;
    let scaled = mantissa.checked_mul(multiplier).ok_or_else(too_much)?;
    if scaled % scale != 0 {
        return Err(ResourcesError::PartialByte {
            text: text.to_owned(),
        });
    }
    match i64::try_from(scaled / scale) {
        Ok(0) => Err(ResourcesError::NoMemory),
        Ok(bytes) => Ok(bytes),
        Err(_) => Err(too_much()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        let cases: [(&str, i64); 16] = [
            ("1", 1),
            ("268435456", 268_435_456),
            ("100B", 100),
            ("1k", 1000),
            ("1K", 1000),
            ("1kB", 1000),
            ("2M", 2_000_000),
            ("3G", 3_000_000_000),
            ("1T", 1_000_000_000_000),
            ("1Ki", 1024),
            ("512Mi", 536_870_912),
            ("512MiB", 536_870_912),
            ("1.5Gi", 1_610_612_736),
            ("2Ti", 2 << 40),
            ("0.5K", 500),
            ("007Mi", 7 << 20),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_memory(text), Ok(bytes), "{text}");
        }
        assert_eq!(parse_memory("8388607Ti"), Ok(8_388_607 << 40));
    }

    #[test]
    fn bad_memory_sizes() {
        for text in [
            "", "Mi", "B", "-1", "1 Mi", " 1", "1.", ".5Mi", "1.2.3", "1e9", "1Mb", "1mi", "1Ei",
            "1KiBB", "1iB", "0x10",
        ] {
            assert!(
                matches!(parse_memory(text), Err(ResourcesError::MemorySyntax { .. })),
                "{text}: {:?}",
                parse_memory(text)
            );
        }
        assert!(matches!(
            parse_memory("512m"),
            Err(ResourcesError::AmbiguousUnit { binary: "Mi", .. })
        ));
        assert!(matches!(
            parse_memory("1gB"),
            Err(ResourcesError::AmbiguousUnit { decimal: "G", .. })
        ));
        for text in ["0", "0Mi", "0.0G", "000"] {
            assert_eq!(parse_memory(text), Err(ResourcesError::NoMemory), "{text}");
        }
        for text in ["0.1Ki", "1.5", "0.0000001K"] {
            assert!(
                matches!(parse_memory(text), Err(ResourcesError::PartialByte { .. })),
                "{text}"
            );
        }
        for text in ["8388608Ti", "9223372036854775808", &"9".repeat(60)] {
            assert!(
                matches!(
                    parse_memory(text),
                    Err(ResourcesError::TooMuchMemory { .. })
                ),
                "{text}: {:?}",
                parse_memory(text)
            );
        }
    }

    #[test]
    fn cpus() {
        assert_eq!(nano_cpus(0.01), Ok(10_000_000));
        assert_eq!(nano_cpus(0.5), Ok(500_000_000));
        assert_eq!(nano_cpus(2.0), Ok(2_000_000_000));
        assert_eq!(nano_cpus(0.3), Ok(300_000_000));
        for cpus in [0.0, -0.5, 0.009, f64::NAN, f64::NEG_INFINITY] {
            assert!(
                matches!(nano_cpus(cpus), Err(ResourcesError::Cpus { .. })),
                "{cpus}"
            );
        }
        for cpus in [f64::INFINITY, 1e10] {
            assert!(
                matches!(nano_cpus(cpus), Err(ResourcesError::TooManyCpus { .. })),
                "{cpus}"
            );
        }
    }

    #[test]
    fn equality_is_an_equivalence() {
        let nan = Resources {
            cpus: Some(f64::NAN),
            memory: None,
        };
        assert_eq!(nan, nan.clone());
        assert_ne!(
            Resources {
                cpus: Some(0.5),
                memory: None
            },
            Resources::default()
        );
    }
}
