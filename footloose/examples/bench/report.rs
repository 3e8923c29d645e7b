//! Collecting samples and printing figures.

use std::time::Duration;

/// Samples of one measurement.
#[derive(Debug, Default, Clone)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    pub fn push_duration(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    }

    /// The `p`th percentile (0..=100), nearest rank.
    pub fn percentile(&self, p: f64) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        v[rank.min(v.len()) - 1]
    }

    pub fn median(&self) -> f64 {
        self.percentile(50.0)
    }

    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }
}

/// A target a figure is checked against.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// ratio footloose/baseline at most this.
    RatioAtMost(f64),
    /// ratio footloose/baseline at least this (throughputs).
    RatioAtLeast(f64),
    /// footloose's value at most this (in the figure's unit).
    ValueAtMost(f64),
}

#[derive(Default)]
pub struct Report {
    checks: Vec<(String, Target, f64, f64)>,
}

impl Report {
    /// Prints a row: median, and min..max, of both sides, and their ratio.
    pub fn row(
        &mut self,
        name: &str,
        unit: &str,
        footloose: &Samples,
        baseline: &Samples,
        target: Option<Target>,
    ) {
        let ratio = footloose.median() / baseline.median();
        let shown = if baseline.median() < 0.001 {
            "n/a".to_owned()
        } else {
            format!("{ratio:.3}")
        };
        // Milliseconds and MB/s read well with one decimal; CPU-seconds need three.
        let digits = if unit == "cpu-s" { 3 } else { 1 };
        println!(
            "{name:<28} {:>10.digits$} {unit:<5} {:>10.digits$} {unit:<5} {shown:>7}   (footloose {:.digits$}..{:.digits$}, baseline {:.digits$}..{:.digits$}, n={}/{})",
            footloose.median(),
            baseline.median(),
            footloose.min(),
            footloose.max(),
            baseline.min(),
            baseline.max(),
            footloose.0.len(),
            baseline.0.len(),
        );
        if let Some(target) = target {
            self.checks
                .push((name.to_owned(), target, footloose.median(), ratio));
        }
    }

    /// Prints a row with a single value per side (percentiles).
    pub fn value_row(
        &mut self,
        name: &str,
        unit: &str,
        footloose: f64,
        baseline: f64,
        target: Option<Target>,
    ) {
        let ratio = footloose / baseline;
        println!("{name:<28} {footloose:>10.2} {unit:<5} {baseline:>10.2} {unit:<5} {ratio:>7.3}");
        if let Some(target) = target {
            self.checks
                .push((name.to_owned(), target, footloose, ratio));
        }
    }

    pub fn header(&self) {
        println!(
            "{:<28} {:>16} {:>16} {:>7}",
            "name", "footloose", "baseline", "ratio"
        );
    }

    pub fn print_targets(&self) {
        println!("targets:");
        for (name, target, value, ratio) in &self.checks {
            let (met, text) = match target {
                Target::RatioAtMost(t) => (*ratio <= *t, format!("ratio {ratio:.3} <= {t}")),
                Target::RatioAtLeast(t) => (*ratio >= *t, format!("ratio {ratio:.3} >= {t}")),
                Target::ValueAtMost(t) => (*value <= *t, format!("{value:.2} <= {t}")),
            };
            println!(
                "  {:<4} {name:<28} {text}",
                if met { "met" } else { "MISS" }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Samples;

    #[test]
    fn percentiles() {
        let s = Samples((1..=100).map(f64::from).collect());
        assert_eq!(s.median(), 50.0);
        assert_eq!(s.percentile(99.0), 99.0);
        assert_eq!((s.min(), s.max()), (1.0, 100.0));
    }
}
