// SPDX-License-Identifier: GPL-2.0

//! The figures of a run: each repetition's value, the table and the JSON.

use std::fmt::Write as _;

/// One measured figure: its value in each repetition.
pub(crate) struct Figure {
    pub(crate) section: &'static str,
    pub(crate) name: String,
    pub(crate) unit: &'static str,
    pub(crate) values: Vec<f64>,
}

impl Figure {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub(crate) fn median(&self) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return f64::NAN;
        }
        if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        }
    }

    pub(crate) fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    pub(crate) fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }
}

/// Everything a run measured.
#[derive(Default)]
pub(crate) struct Results {
    pub(crate) figures: Vec<Figure>,
}

impl Results {
    pub(crate) fn push(
        &mut self,
        section: &'static str,
        name: String,
        unit: &'static str,
        values: Vec<f64>,
    ) {
        self.figures.push(Figure {
            section,
            name,
            unit,
            values,
        });
    }

    /// The sections: the exact ones (instruction counts) first, then the timed ones, each in
    /// the order they were first measured.
    pub(crate) fn sections(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        for f in &self.figures {
            if !v.contains(&f.section) {
                v.push(f.section);
            }
        }
        v.sort_by_key(|s| !s.starts_with("instruction"));
        v
    }

    /// The figure `name` of `section`.
    pub(crate) fn get(&self, section: &str, name: &str) -> Option<&Figure> {
        self.figures
            .iter()
            .find(|f| f.section == section && f.name == name)
    }

    /// The table: one row per figure, median and spread (min..max) over the repetitions, by
    /// section.
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        for section in self.sections() {
            let _ = writeln!(out, "\n{section}");
            let exact = section.starts_with("instruction");
            let _ = writeln!(
                out,
                "  {:<40} {:>12} {:>12} {:>12}  unit",
                "figure", "median", "min", "max"
            );
            for f in self.figures.iter().filter(|f| f.section == section) {
                // Counts are exact: whole instructions per call, ratios to four places.
                let prec = if exact && f.unit != "x" {
                    2
                } else {
                    3 + usize::from(exact)
                };
                let _ = writeln!(
                    out,
                    "  {:<40} {:>12.prec$} {:>12.prec$} {:>12.prec$}  {}",
                    f.name,
                    f.median(),
                    f.min(),
                    f.max(),
                    f.unit
                );
            }
        }
        out
    }

    /// The raw figures as JSON.
    pub(crate) fn json(&self, meta: &[(&str, String)]) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut out = String::from("{\n  \"meta\": {");
        let m: Vec<String> = meta
            .iter()
            .map(|(k, v)| format!("\"{}\": \"{}\"", esc(k), esc(v)))
            .collect();
        out.push_str(&m.join(", "));
        out.push_str("},\n  \"figures\": [\n");
        let rows: Vec<String> = self
            .figures
            .iter()
            .map(|f| {
                let vals: Vec<String> = f.values.iter().map(|v| format!("{v:.6}")).collect();
                format!(
                    "    {{\"section\": \"{}\", \"name\": \"{}\", \"unit\": \"{}\", \
                     \"median\": {:.6}, \"min\": {:.6}, \"max\": {:.6}, \"values\": [{}]}}",
                    esc(f.section),
                    esc(&f.name),
                    f.unit,
                    f.median(),
                    f.min(),
                    f.max(),
                    vals.join(", ")
                )
            })
            .collect();
        out.push_str(&rows.join(",\n"));
        out.push_str("\n  ]\n}\n");
        out
    }
}
