//! Turning `driver.inx` into `rvmini.inf` the way the WDK's `stampinf` does.
//!
//! stampinf (`stampinf -f rvmini.inf -d <date> -a amd64 -c rvmini.cat -v <version>`, which is what
//! the windows-drivers-rs cargo-make flow runs) does three things, and so does [`stamp`]:
//! * replaces every `$ARCH$` with the architecture (`NT$ARCH$.10.0...16299` becomes
//!   `NTamd64.10.0...16299`);
//! * sets `DriverVer = mm/dd/yyyy,w.x.y.z` in `[Version]`, replacing an existing entry or adding one;
//! * sets `CatalogFile = <name>.cat` in `[Version]` the same way.
//!
//! Unlike `stampinf -d * -v *` the date and version are not "now": [`DriverVer`] is built from a
//! reproducible date (see `package.rs`) and the Cargo package version, so the same commit always
//! yields the same INF.

use std::fmt;

use crate::Result;

/// The value of the INF `DriverVer` directive: `mm/dd/yyyy,w.x.y.z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverVer {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub version: [u16; 4],
}

impl DriverVer {
    /// DriverVer for the UTC day containing `unix_seconds` and the Cargo version `cargo_version`.
    pub fn new(unix_seconds: i64, cargo_version: &str) -> Result<Self> {
        let (year, month, day) = civil_from_unix(unix_seconds);
        if !(1980..=9999).contains(&year) {
            fail!("the driver date {year:04}-{month:02}-{day:02} is outside the years an INF DriverVer can hold");
        }
        Ok(Self { year, month, day, version: version_quad(cargo_version)? })
    }
}

impl fmt::Display for DriverVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch, build] = self.version;
        write!(f, "{:02}/{:02}/{:04},{major}.{minor}.{patch}.{build}", self.month, self.day, self.year)
    }
}

/// `major.minor.patch` of a Cargo (semver) version as a four-part driver version `a.b.c.0`.
/// Pre-release and build suffixes are dropped; every part must fit the 16 bits Windows gives it.
pub fn version_quad(cargo_version: &str) -> Result<[u16; 4]> {
    let core = cargo_version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    let [major, minor, patch] = parts.as_slice() else {
        fail!("the package version `{cargo_version}` is not major.minor.patch");
    };
    let mut quad = [0_u16; 4];
    for (slot, part) in quad.iter_mut().zip([major, minor, patch]) {
        let Ok(value) = part.parse::<u16>() else {
            fail!(
                "the package version `{cargo_version}` has a part (`{part}`) that does not fit a driver version (0..=65535)"
            );
        };
        *slot = value;
    }
    Ok(quad)
}

/// Proleptic Gregorian (year, month, day) of the UTC day that contains `unix_seconds`.
pub fn civil_from_unix(unix_seconds: i64) -> (i64, u32, u32) {
    // Count days from 0000-03-01 so that the leap day is the last day of a "year"; a 400-year
    // era has exactly 146097 days.
    let days = unix_seconds.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097); // 0..=146096
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // 0..=399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // 0..=365
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March ..= 11 = February
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small by construction (day 1..=31, month 1..=12).
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

/// The key of an INF line (`key = value`) and the byte index of its `=`, if the line has one
/// outside quotes and comments.
fn line_key(line: &str) -> Option<(&str, usize)> {
    let mut quoted = false;
    for (index, character) in line.char_indices() {
        match character {
            '"' => quoted = !quoted,
            ';' if !quoted => return None,
            '=' if !quoted => return Some((line[..index].trim(), index)),
            _ => {}
        }
    }
    None
}

/// The section name if `line` is a section header (`[name]`).
fn section_name(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('[')?;
    let end = rest.find(']')?;
    Some(rest[..end].trim())
}

/// Is `line` blank or only a comment?
fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with(';')
}

/// Stamp `template` (the text of an `.inx`): see the module documentation. The result uses CRLF
/// line endings, as Windows INF files conventionally do.
pub fn stamp(template: &str, arch: &str, driver_ver: &DriverVer, catalog_file: &str) -> Result<String> {
    let template = template.strip_prefix('\u{feff}').unwrap_or(template);
    let directives = [("DriverVer", driver_ver.to_string()), ("CatalogFile", catalog_file.to_owned())];
    let mut seen = [false; 2];
    let mut lines: Vec<String> = Vec::new();
    let mut in_version = false;
    // Index in `lines` after which missing directives are inserted: the last entry of [Version].
    let mut version_anchor: Option<usize> = None;

    for raw in template.lines() {
        let line = raw.replace("$ARCH$", arch);
        if let Some(name) = section_name(&line) {
            in_version = name.eq_ignore_ascii_case("Version");
            if in_version {
                version_anchor = Some(lines.len());
            }
            lines.push(line);
            continue;
        }
        if in_version && !is_blank_or_comment(&line) {
            version_anchor = Some(lines.len());
            if let Some((key, equals)) = line_key(&line)
                && let Some(index) = directives.iter().position(|(name, _)| key.eq_ignore_ascii_case(name))
            {
                seen[index] = true;
                lines.push(format!("{} {}", &line[..=equals], directives[index].1));
                continue;
            }
        }
        lines.push(line);
    }

    let Some(anchor) = version_anchor else {
        fail!("the INF template has no [Version] section");
    };
    let mut insert_at = anchor + 1;
    for ((name, value), present) in directives.iter().zip(seen) {
        if !present {
            lines.insert(insert_at, format!("{name} = {value}"));
            insert_at += 1;
        }
    }
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver_ver() -> DriverVer {
        DriverVer { year: 2026, month: 3, day: 7, version: [0, 1, 0, 0] }
    }

    #[test]
    fn driver_ver_renders_as_stampinf_does() {
        assert_eq!(driver_ver().to_string(), "03/07/2026,0.1.0.0");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_unix(0), (1970, 1, 1));
        assert_eq!(civil_from_unix(86_399), (1970, 1, 1));
        assert_eq!(civil_from_unix(-1), (1969, 12, 31));
        assert_eq!(civil_from_unix(951_782_400), (2000, 2, 29));
        assert_eq!(civil_from_unix(951_868_800), (2000, 3, 1));
        assert_eq!(civil_from_unix(4_107_456_000), (2100, 2, 28));
        assert_eq!(civil_from_unix(4_107_542_400), (2100, 3, 1));
        assert_eq!(civil_from_unix(1_767_225_599), (2025, 12, 31));
    }

    #[test]
    fn version_quads() {
        assert_eq!(version_quad("0.1.0").unwrap(), [0, 1, 0, 0]);
        assert_eq!(version_quad("1.2.3-rc.1+build.5").unwrap(), [1, 2, 3, 0]);
        assert!(version_quad("1.2").is_err());
        assert!(version_quad("1.70000.0").is_err());
    }

    #[test]
    fn driver_ver_rejects_dates_an_inf_cannot_hold() {
        assert!(DriverVer::new(0, "0.1.0").is_err(), "1970 is before 1980");
        assert_eq!(DriverVer::new(1_767_225_599, "2.3.4").unwrap().to_string(), "12/31/2025,2.3.4.0");
    }

    #[test]
    fn stamps_empty_directives_and_arch() {
        let template = "[Version]\nSignature = \"$WINDOWS NT$\"\nDriverVer   =\nCatalogFile =\n\n\
                        [Manufacturer]\n%Mfg% = Std,NT$ARCH$.10.0...16299\n[Std.NT$ARCH$.10.0...16299]\n";
        let inf = stamp(template, "amd64", &driver_ver(), "rvmini.cat").unwrap();
        assert_eq!(
            inf,
            "[Version]\r\nSignature = \"$WINDOWS NT$\"\r\nDriverVer   = 03/07/2026,0.1.0.0\r\n\
             CatalogFile = rvmini.cat\r\n\r\n[Manufacturer]\r\n%Mfg% = Std,NTamd64.10.0...16299\r\n\
             [Std.NTamd64.10.0...16299]\r\n"
        );
    }

    #[test]
    fn adds_missing_directives_at_the_end_of_version_and_leaves_other_sections_alone() {
        let template = "\u{feff}[version]\r\nClass = Net ; comment\r\n; trailing comment\r\n\r\n\
                        [Strings]\r\nDriverVer = \"not a directive here\"\r\n";
        let inf = stamp(template, "amd64", &driver_ver(), "rvmini.cat").unwrap();
        assert_eq!(
            inf,
            "[version]\r\nClass = Net ; comment\r\nDriverVer = 03/07/2026,0.1.0.0\r\nCatalogFile = rvmini.cat\r\n\
             ; trailing comment\r\n\r\n[Strings]\r\nDriverVer = \"not a directive here\"\r\n"
        );
    }

    #[test]
    fn replaces_existing_values_case_insensitively() {
        let template = "[Version]\ndriverver = 01/01/2000,9.9.9.9\nCATALOGFILE = old.cat\n";
        let inf = stamp(template, "amd64", &driver_ver(), "rvmini.cat").unwrap();
        assert_eq!(inf, "[Version]\r\ndriverver = 03/07/2026,0.1.0.0\r\nCATALOGFILE = rvmini.cat\r\n");
    }

    #[test]
    fn a_template_without_version_is_an_error() {
        assert!(stamp("[Strings]\nA = \"b\"\n", "amd64", &driver_ver(), "x.cat").is_err());
    }
}
