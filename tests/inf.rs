//! Checks on the stamped `rvmini.inf` in the package folder.
//!
//! The INF is read with a small parser written here (sections, `key = value` and key-less lines,
//! comma-separated fields, quoted strings with `""` escapes, `;` comments, `\` line continuations,
//! `%token%` substitution from `[Strings]` with `%%` for a literal percent sign and `%<number>%`
//! left alone as a directory id). The tests then assert what Windows and NDIS need from a
//! Net-class INF for a root-enumerated virtual Ethernet miniport.

mod common;

use std::collections::BTreeMap;

// Network component characteristics (DDInstall `Characteristics`).
const NCF_VIRTUAL: u32 = 0x1;
const NCF_SOFTWARE_ENUMERATED: u32 = 0x2;
const NCF_PHYSICAL: u32 = 0x4;
const NCF_HAS_UI: u32 = 0x80;
/// AddService flag: the service is the device's function driver.
const SPSVCINST_ASSOCSERVICE: u32 = 0x2;

/// One logical line of a section.
#[derive(Debug, Clone)]
struct Entry {
    /// Text before the first `=` outside quotes, if any (unquoted, not yet resolved).
    key: Option<String>,
    /// Comma-separated fields after the `=` (or the whole line), unquoted, not yet resolved.
    fields: Vec<String>,
    /// 1-based physical line where the logical line starts.
    line: usize,
}

#[derive(Debug, Default)]
struct Inf {
    /// Sections by lower-cased name; a section that appears twice is merged, as SetupAPI does.
    sections: BTreeMap<String, Vec<Entry>>,
    /// `[Strings]` by lower-cased token.
    strings: BTreeMap<String, String>,
}

/// Remove a `;` comment (outside quotes) from a physical line.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (index, character) in line.char_indices() {
        match character {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..index],
            _ => {}
        }
    }
    line
}

/// Split at `separator` outside double quotes.
fn split_outside_quotes(text: &str, separator: char, limit: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (index, character) in text.char_indices() {
        if character == '"' {
            quoted = !quoted;
        } else if character == separator && !quoted && parts.len() + 1 < limit {
            parts.push(&text[start..index]);
            start = index + character.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Trim a field and remove its quotes: `"a""b"` is `a"b`; unquoted text is kept as is.
fn unquote(field: &str) -> String {
    let field = field.trim();
    let mut out = String::new();
    let mut chars = field.chars().peekable();
    let mut quoted = false;
    while let Some(character) = chars.next() {
        if character == '"' {
            if quoted && chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                quoted = !quoted;
            }
        } else {
            out.push(character);
        }
    }
    out
}

impl Inf {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut inf = Inf::default();
        let mut current: Option<String> = None;
        let mut pending = String::new();
        let mut pending_line = 0;
        for (index, raw) in text.lines().enumerate() {
            let content = strip_comment(raw).trim_end();
            if pending.is_empty() {
                pending_line = index + 1;
            }
            if let Some(continued) = content.strip_suffix('\\') {
                pending.push_str(continued);
                continue;
            }
            pending.push_str(content);
            let logical = std::mem::take(&mut pending);
            let logical = logical.trim();
            if logical.is_empty() {
                continue;
            }
            if let Some(rest) = logical.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(format!("line {pending_line}: unterminated section header `{logical}`"));
                };
                let name = name.trim().to_ascii_lowercase();
                inf.sections.entry(name.clone()).or_default();
                current = Some(name);
                continue;
            }
            let Some(section) = &current else {
                return Err(format!("line {pending_line}: `{logical}` is outside any section"));
            };
            if !logical.matches('"').count().is_multiple_of(2) {
                return Err(format!("line {pending_line}: unbalanced quotes in `{logical}`"));
            }
            let halves = split_outside_quotes(logical, '=', 2);
            let (key, value) = match halves.as_slice() {
                [key, value] => (Some(unquote(key)), *value),
                _ => (None, logical),
            };
            let fields = split_outside_quotes(value, ',', usize::MAX).into_iter().map(unquote).collect();
            let entry = Entry { key, fields, line: pending_line };
            if section == "strings" {
                let (Some(key), [value]) = (&entry.key, entry.fields.as_slice()) else {
                    return Err(format!("line {pending_line}: [Strings] entries are `token = \"text\"`"));
                };
                inf.strings.insert(key.to_ascii_lowercase(), value.clone());
            }
            inf.sections.get_mut(section).expect("section was created").push(entry);
        }
        if !pending.is_empty() {
            return Err("the file ends in a line continuation".to_owned());
        }
        Ok(inf)
    }

    /// Substitute `%token%` from [Strings]; `%%` is `%`; `%13%` (a DIRID) stays as written.
    fn resolve(&self, raw: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(start) = rest.find('%') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                out.push('%');
                rest = tail;
                continue;
            }
            let Some(end) = after.find('%') else {
                return Err(format!("unterminated %token in `{raw}`"));
            };
            let token = &after[..end];
            if !token.is_empty() && token.bytes().all(|byte| byte.is_ascii_digit()) {
                out.push('%');
                out.push_str(token);
                out.push('%');
            } else {
                let value = self
                    .strings
                    .get(&token.to_ascii_lowercase())
                    .ok_or_else(|| format!("%{token}% is not defined in [Strings] (in `{raw}`)"))?;
                out.push_str(value);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn section(&self, name: &str) -> &[Entry] {
        self.sections.get(&name.to_ascii_lowercase()).unwrap_or_else(|| panic!("rvmini.inf has no [{name}] section"))
    }

    fn has_section(&self, name: &str) -> bool {
        self.sections.contains_key(&name.to_ascii_lowercase())
    }

    /// Values (resolved, fields joined by `,`) of every `key = ...` in `section`.
    fn values(&self, section: &str, key: &str) -> Vec<String> {
        self.section(section)
            .iter()
            .filter(|entry| entry.key.as_deref().is_some_and(|found| found.eq_ignore_ascii_case(key)))
            .map(|entry| {
                entry
                    .fields
                    .iter()
                    .map(|field| self.resolve(field).unwrap_or_else(|error| panic!("[{section}] {key}: {error}")))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    }

    /// The single value of `key` in `section`.
    fn value(&self, section: &str, key: &str) -> String {
        let mut values = self.values(section, key);
        assert_eq!(values.len(), 1, "[{section}] must have exactly one `{key}`, has {values:?}");
        values.remove(0)
    }

    /// Section names listed by `directive` (e.g. `AddReg`) in `section`, over all its lines.
    fn listed_sections(&self, section: &str, directive: &str) -> Vec<String> {
        self.values(section, directive)
            .iter()
            .flat_map(|value| value.split(',').map(|name| name.trim().to_owned()).collect::<Vec<_>>())
            .filter(|name| !name.is_empty())
            .collect()
    }
}

/// Registry values written by add-registry sections: (root, subkey, value name) lower-cased,
/// mapped to (flags, resolved data).
type Registry = BTreeMap<(String, String, String), (u32, String)>;

fn parse_number(text: &str) -> u32 {
    let text = text.trim();
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None if text.is_empty() => Ok(0),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("`{text}` is not a number"))
}

fn registry(inf: &Inf, sections: &[String]) -> Registry {
    let mut values = Registry::new();
    for name in sections {
        for entry in inf.section(name) {
            assert!(entry.key.is_none(), "[{name}] line {}: add-registry lines have no `=`", entry.line);
            let fields: Vec<String> = entry
                .fields
                .iter()
                .map(|field| inf.resolve(field).unwrap_or_else(|error| panic!("[{name}] line {}: {error}", entry.line)))
                .collect();
            assert!(fields.len() >= 3, "[{name}] line {}: reg-root, subkey, value-name at least", entry.line);
            let flags = fields.get(3).map_or(0, |flags| parse_number(flags));
            let data = fields.get(4..).map(|rest| rest.join(",")).unwrap_or_default();
            let key = (fields[0].to_ascii_lowercase(), fields[1].to_ascii_lowercase(), fields[2].to_ascii_lowercase());
            assert!(
                values.insert(key.clone(), (flags, data)).is_none(),
                "[{name}] line {}: {key:?} is written twice",
                entry.line
            );
        }
    }
    values
}

fn stamped_text() -> String {
    String::from_utf8(common::read_package_file("rvmini.inf")).expect("rvmini.inf is UTF-8 (or ASCII)")
}

fn stamped() -> Inf {
    Inf::parse(&stamped_text()).unwrap_or_else(|error| panic!("rvmini.inf does not parse: {error}"))
}

/// The models section named by [Manufacturer] for amd64, checked along the way.
fn models_section(inf: &Inf) -> String {
    let manufacturer = inf.section("Manufacturer");
    assert_eq!(manufacturer.len(), 1, "one manufacturer");
    let entry = &manufacturer[0];
    let key = entry.key.as_deref().expect("[Manufacturer] entry is `%Mfg% = models, decorations`");
    assert!(!inf.resolve(key).expect("manufacturer name resolves").is_empty(), "manufacturer name");
    let (models, decorations) = entry.fields.split_first().expect("models section name");
    let decoration = decorations
        .iter()
        .find(|decoration| decoration.to_ascii_lowercase().starts_with("ntamd64"))
        .unwrap_or_else(|| panic!("no NTamd64 decoration in {decorations:?}"));
    // NTamd64.10.0...16299: OS major.minor, product type, suite mask, build number.
    let parts: Vec<&str> = decoration.split('.').collect();
    assert!(parts.len() >= 6, "`{decoration}` has no build number (NTamd64.10.0...<build>)");
    assert_eq!((parts[1], parts[2]), ("10", "0"), "target OS version in `{decoration}`");
    let build: u32 = parts[5].parse().unwrap_or_else(|_| panic!("build number in `{decoration}`"));
    assert!(build >= 16299, "DIRID 13 needs build 16299 or later, `{decoration}` allows {build}");
    format!("{models}.{decoration}")
}

/// (models section, install section) for the `root\rvmini` hardware ID.
fn install_section(inf: &Inf) -> String {
    let models = models_section(inf);
    let entries = inf.section(&models);
    let entry = entries
        .iter()
        .find(|entry| entry.fields.iter().skip(1).any(|id| id.eq_ignore_ascii_case("root\\rvmini")))
        .unwrap_or_else(|| panic!("[{models}] has no model for root\\rvmini: {entries:?}"));
    let description = inf.resolve(entry.key.as_deref().expect("model has a description")).expect("description");
    assert!(!description.trim().is_empty(), "device description is empty");
    entry.fields[0].clone()
}

#[test]
fn version_section() {
    let inf = stamped();
    assert_eq!(inf.value("Version", "Signature").to_ascii_lowercase(), "$windows nt$");
    assert_eq!(inf.value("Version", "Class"), "Net");
    assert_eq!(inf.value("Version", "ClassGuid").to_ascii_lowercase(), "{4d36e972-e325-11ce-bfc1-08002be10318}");
    assert!(!inf.value("Version", "Provider").trim().is_empty(), "Provider");
    assert_eq!(inf.value("Version", "PnpLockdown"), "1");
    assert_eq!(inf.value("Version", "CatalogFile"), "rvmini.cat");
}

#[test]
fn driver_ver_is_well_formed_and_carries_the_package_version() {
    let inf = stamped();
    let value = inf.value("Version", "DriverVer");
    let (date, version) = value.split_once(',').unwrap_or_else(|| panic!("DriverVer `{value}` is not date,version"));
    let date: Vec<&str> = date.trim().split('/').collect();
    assert!(
        matches!(date.as_slice(), [m, d, y] if m.len() == 2 && d.len() == 2 && y.len() == 4),
        "DriverVer date `{date:?}` is not mm/dd/yyyy"
    );
    let [month, day, year] =
        [date[0], date[1], date[2]].map(|part| part.parse::<u32>().expect("date part is a number"));
    assert!((1..=12).contains(&month), "month {month}");
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1];
    assert!((1..=days).contains(&day), "day {day} of month {month}");
    assert!((1980..=9999).contains(&year), "year {year}");

    let parts: Vec<u16> = version
        .trim()
        .split('.')
        .map(|part| part.parse::<u16>().unwrap_or_else(|_| panic!("DriverVer version `{version}` part `{part}`")))
        .collect();
    assert_eq!(parts.len(), 4, "DriverVer version `{version}` is not w.x.y.z");
    let expected: Vec<u16> = env!("CARGO_PKG_VERSION")
        .split(['-', '+'])
        .next()
        .unwrap()
        .split('.')
        .map(|part| part.parse().unwrap())
        .chain([0])
        .collect();
    assert_eq!(parts, expected, "DriverVer version vs the rvmini package version");
}

#[test]
fn no_stamp_placeholders_remain() {
    let text = stamped_text();
    let bytes = text.as_bytes();
    for (start, _) in text.match_indices('$') {
        let rest = &bytes[start + 1..];
        let token_len = rest.iter().take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_').count();
        assert!(
            !(token_len > 0 && rest.get(token_len) == Some(&b'$')),
            "placeholder `{}` was not stamped",
            &text[start..start + token_len + 2]
        );
    }
}

#[test]
fn every_string_token_resolves() {
    let inf = stamped();
    let mut unresolved = Vec::new();
    for (section, entries) in &inf.sections {
        for entry in entries {
            for text in entry.key.iter().chain(&entry.fields) {
                if let Err(error) = inf.resolve(text) {
                    unresolved.push(format!("[{section}] line {}: {error}", entry.line));
                }
            }
        }
    }
    assert!(unresolved.is_empty(), "unresolved tokens:\n{}", unresolved.join("\n"));
}

#[test]
fn models_section_installs_root_rvmini() {
    let inf = stamped();
    let install = install_section(&inf);
    assert!(inf.has_section(&install), "install section [{install}] is missing");
}

#[test]
fn install_section_declares_a_virtual_ethernet_adapter() {
    let inf = stamped();
    let install = install_section(&inf);
    let characteristics = parse_number(&inf.value(&install, "Characteristics"));
    assert_ne!(characteristics & NCF_VIRTUAL, 0, "NCF_VIRTUAL");
    assert_eq!(characteristics & (NCF_PHYSICAL | NCF_SOFTWARE_ENUMERATED), 0, "virtual excludes physical/software");
    assert_ne!(characteristics & NCF_HAS_UI, 0, "an adapter with Ndi\\params (Advanced page) needs NCF_HAS_UI");
    assert_eq!(parse_number(&inf.value(&install, "*IfType")), 6, "*IfType = IF_TYPE_ETHERNET_CSMACD");
    assert_eq!(parse_number(&inf.value(&install, "*MediaType")), 0, "*MediaType = NdisMedium802_3");
    assert_eq!(parse_number(&inf.value(&install, "*PhysicalMediaType")), 14, "*PhysicalMediaType = 802.3");
}

#[test]
fn ndi_key_binds_to_ethernet_below_ndis5_above() {
    let inf = stamped();
    let install = install_section(&inf);
    let registry = registry(&inf, &inf.listed_sections(&install, "AddReg"));
    let get = |subkey: &str, name: &str| {
        registry
            .get(&("hkr".to_owned(), subkey.to_ascii_lowercase(), name.to_ascii_lowercase()))
            .map(|(flags, data)| (*flags, data.clone()))
    };
    assert_eq!(get("Ndi", "Service"), Some((0, "rvmini".to_owned())), "Ndi\\Service");
    assert_eq!(get("Ndi\\Interfaces", "UpperRange"), Some((0, "ndis5".to_owned())));
    assert_eq!(get("Ndi\\Interfaces", "LowerRange"), Some((0, "ethernet".to_owned())));
}

#[test]
fn advanced_properties() {
    let inf = stamped();
    let install = install_section(&inf);
    let registry = registry(&inf, &inf.listed_sections(&install, "AddReg"));
    let param = |keyword: &str, name: &str| -> Option<String> {
        registry
            .get(&(
                "hkr".to_owned(),
                format!("ndi\\params\\{}", keyword.to_ascii_lowercase()),
                name.to_ascii_lowercase(),
            ))
            .map(|(flags, data)| {
                assert_eq!(*flags, 0, "Ndi\\params\\{keyword}\\{name} must be REG_SZ (flags 0)");
                data.clone()
            })
    };
    let instance = |keyword: &str| -> Option<String> {
        registry.get(&("hkr".to_owned(), String::new(), keyword.to_ascii_lowercase())).map(|(_, data)| data.clone())
    };
    let number = |keyword: &str, name: &str| -> u32 {
        let text = param(keyword, name).unwrap_or_else(|| panic!("Ndi\\params\\{keyword} has no {name}"));
        text.parse().unwrap_or_else(|_| panic!("Ndi\\params\\{keyword}\\{name} = `{text}` is not a number"))
    };

    for keyword in ["NetworkAddress", "*JumboPacket", "*ReceiveBuffers", "LogLevel"] {
        let description = param(keyword, "ParamDesc").unwrap_or_else(|| panic!("{keyword} has no ParamDesc"));
        assert!(!description.trim().is_empty(), "{keyword} ParamDesc is empty");
    }

    // NetworkAddress: an optional 12-hex-digit edit box, as documented for the keyword.
    assert_eq!(param("NetworkAddress", "Type").as_deref(), Some("edit"));
    assert_eq!(param("NetworkAddress", "Optional").as_deref(), Some("1"));
    assert_eq!(param("NetworkAddress", "LimitText").as_deref(), Some("12"));
    assert_eq!(param("NetworkAddress", "UpperCase").as_deref(), Some("1"));
    assert_eq!(param("NetworkAddress", "Default").as_deref(), Some(""));
    assert_eq!(instance("NetworkAddress"), None, "no address override unless the user sets one");

    // *JumboPacket: standardized int keyword; 1514 (no jumbo frames) is the minimum and default.
    assert_eq!(param("*JumboPacket", "Type").as_deref(), Some("int"));
    assert_eq!(number("*JumboPacket", "Min"), 1514);
    assert_eq!(number("*JumboPacket", "Max"), 9014);
    assert_eq!(number("*JumboPacket", "Default"), 1514);

    // *ReceiveBuffers: int 64..=4096, default 256.
    assert_eq!(param("*ReceiveBuffers", "Type").as_deref(), Some("int"));
    assert_eq!(number("*ReceiveBuffers", "Min"), 64);
    assert_eq!(number("*ReceiveBuffers", "Max"), 4096);
    assert_eq!(number("*ReceiveBuffers", "Default"), 256);

    // LogLevel: enum 0..=3, Errors by default.
    assert_eq!(param("LogLevel", "Type").as_deref(), Some("enum"));
    assert_eq!(number("LogLevel", "Default"), 0);
    let mut choices: Vec<(String, String)> = registry
        .iter()
        .filter(|((root, subkey, _), _)| root == "hkr" && subkey == "ndi\\params\\loglevel\\enum")
        .map(|((_, _, value), (_, text))| (value.clone(), text.clone()))
        .collect();
    choices.sort();
    let values: Vec<&str> = choices.iter().map(|(value, _)| value.as_str()).collect();
    assert_eq!(values, ["0", "1", "2", "3"], "LogLevel choices");
    assert_eq!(choices[0].1, "Errors");
    assert!(choices.iter().all(|(_, text)| !text.trim().is_empty()), "LogLevel choice texts");

    // The initial values written to the instance key agree with the Advanced page defaults.
    for keyword in ["*JumboPacket", "*ReceiveBuffers", "LogLevel"] {
        assert_eq!(instance(keyword), param(keyword, "Default"), "instance value of {keyword} vs its Default");
    }
    for keyword in ["*JumboPacket", "*ReceiveBuffers"] {
        let default = number(keyword, "Default");
        assert!((number(keyword, "Min")..=number(keyword, "Max")).contains(&default), "{keyword} default in range");
    }
}

#[test]
fn advanced_property_ranges_match_what_the_driver_accepts() {
    use rvmini_core::config;
    type Validate = fn(Option<u32>) -> (u32, Option<config::Issue>);

    let inf = stamped();
    let install = install_section(&inf);
    let registry = registry(&inf, &inf.listed_sections(&install, "AddReg"));
    let number = |keyword: &str, name: &str| -> u32 {
        let key =
            ("hkr".to_owned(), format!("ndi\\params\\{}", keyword.to_ascii_lowercase()), name.to_ascii_lowercase());
        let text = &registry.get(&key).unwrap_or_else(|| panic!("Ndi\\params\\{keyword} has no {name}")).1;
        text.parse().unwrap_or_else(|_| panic!("Ndi\\params\\{keyword}\\{name} = `{text}`"))
    };
    let ranged: [(&str, Validate); 2] =
        [(config::JUMBO_PACKET, config::jumbo_packet), (config::RECEIVE_BUFFERS, config::receive_buffers)];
    for (keyword, validate) in ranged {
        let (min, max, default) = (number(keyword, "Min"), number(keyword, "Max"), number(keyword, "Default"));
        assert_eq!(validate(None), (default, None), "{keyword}: the driver's default is the INF's");
        for accepted in [min, default, max] {
            assert_eq!(validate(Some(accepted)), (accepted, None), "{keyword}: the driver rejects {accepted}");
        }
        for rejected in [min - 1, max + 1] {
            assert!(
                validate(Some(rejected)).1.is_some(),
                "{keyword}: the driver accepts {rejected}, outside the INF range"
            );
        }
    }
    let default = number(config::LOG_LEVEL, "Default");
    assert_eq!(config::log_level(None), (default, None), "LogLevel: the driver's default is the INF's");
    let choices: Vec<u32> = registry
        .keys()
        .filter(|(_, subkey, _)| subkey == "ndi\\params\\loglevel\\enum")
        .map(|(_, _, value)| value.parse().expect("LogLevel choice is a number"))
        .collect();
    for choice in &choices {
        assert_eq!(config::log_level(Some(*choice)), (*choice, None), "LogLevel {choice} is offered but rejected");
    }
    assert_eq!(choices.iter().max(), Some(&config::LOG_LEVEL_MAX), "LogLevel choices end at the driver's maximum");
}

#[test]
fn no_reserved_names_and_no_net_cfg_instance_id() {
    // Microsoft reserves these names; they cannot be Ndi\params keywords. NetCfgInstanceId in
    // particular belongs to the network class installer, which creates it at install time.
    let reserved = [
        "bundleid",
        "bustype",
        "characteristics",
        "componentid",
        "description",
        "deviceinstanceid",
        "driverdate",
        "driverdesc",
        "driverversion",
        "infpath",
        "infsection",
        "infsectionext",
        "*iftype",
        "installtimestamp",
        "manufacturer",
        "*mediatype",
        "netcfginstanceid",
        "netluidindex",
        "*physicalmediatype",
        "provider",
        "providername",
    ];
    let inf = stamped();
    let install = install_section(&inf);
    let registry = registry(&inf, &inf.listed_sections(&install, "AddReg"));
    for (root, subkey, name) in registry.keys() {
        if let Some(keyword) = subkey.strip_prefix("ndi\\params\\") {
            let keyword = keyword.split('\\').next().unwrap_or_default();
            assert!(!reserved.contains(&keyword), "Ndi\\params\\{keyword} uses a reserved name");
        }
        assert_ne!(name, "netcfginstanceid", "{root},{subkey}: the INF must not write NetCfgInstanceId");
    }
}

#[test]
fn service_is_a_demand_start_kernel_driver_from_the_driver_store() {
    let inf = stamped();
    let install = install_section(&inf);
    let services = format!("{install}.Services");
    let add_service = inf.section(&services);
    let entry = add_service
        .iter()
        .find(|entry| entry.key.as_deref().is_some_and(|key| key.eq_ignore_ascii_case("AddService")))
        .unwrap_or_else(|| panic!("[{services}] has no AddService"));
    let [name, flags, service_section, event_log_section] = entry.fields.as_slice() else {
        panic!("AddService = name, flags, service-install-section, event-log-install-section: {entry:?}");
    };
    assert_eq!(name, "rvmini");
    assert_ne!(parse_number(flags) & SPSVCINST_ASSOCSERVICE, 0, "SPSVCINST_ASSOCSERVICE");

    assert_eq!(parse_number(&inf.value(service_section, "ServiceType")), 1, "SERVICE_KERNEL_DRIVER");
    assert_eq!(parse_number(&inf.value(service_section, "StartType")), 3, "SERVICE_DEMAND_START");
    assert_eq!(parse_number(&inf.value(service_section, "ErrorControl")), 1, "SERVICE_ERROR_NORMAL");
    assert_eq!(inf.value(service_section, "ServiceBinary").to_ascii_lowercase(), "%13%\\rvmini.sys");
    assert!(!inf.value(service_section, "DisplayName").trim().is_empty(), "service DisplayName");

    let log = registry(&inf, &inf.listed_sections(event_log_section, "AddReg"));
    let message_file =
        log.get(&("hkr".to_owned(), String::new(), "eventmessagefile".to_owned())).expect("EventMessageFile");
    assert_eq!(message_file.0, 0x0002_0000, "EventMessageFile is REG_EXPAND_SZ");
    assert_eq!(message_file.1.to_ascii_lowercase(), "%systemroot%\\system32\\netevent.dll");
    let types = log.get(&("hkr".to_owned(), String::new(), "typessupported".to_owned())).expect("TypesSupported");
    assert_eq!((types.0, parse_number(&types.1)), (0x0001_0001, 7), "TypesSupported REG_DWORD 7");
}

#[test]
fn files_are_copied_to_the_driver_store() {
    let inf = stamped();
    let install = install_section(&inf);
    let copy_sections = inf.listed_sections(&install, "CopyFiles");
    assert_eq!(copy_sections.len(), 1, "one CopyFiles section");
    let copy = &copy_sections[0];
    let files: Vec<String> = inf.section(copy).iter().map(|entry| entry.fields[0].to_ascii_lowercase()).collect();
    assert_eq!(files, ["rvmini.sys"], "[{copy}] copies rvmini.sys");
    assert_eq!(inf.value("DestinationDirs", copy), "13", "[{copy}] goes to DIRID 13 (driver store)");
    let source = inf.value("SourceDisksFiles", "rvmini.sys");
    let disk = source.split(',').next().unwrap_or_default().trim().to_owned();
    assert!(!inf.values("SourceDisksNames", &disk).is_empty(), "disk {disk} of rvmini.sys is in [SourceDisksNames]");
}

#[test]
fn stamped_inf_matches_the_template_apart_from_the_stamps() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/driver.inx")).expect("driver.inx");
    let stamped = stamped_text();
    let normalize = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| line.trim_end().replace("$ARCH$", "amd64"))
            .filter(|line| {
                let key = line.split('=').next().unwrap_or_default().trim().to_ascii_lowercase();
                key != "driverver" && key != "catalogfile"
            })
            .collect()
    };
    let (stamped_lines, template_lines) = (normalize(&stamped), normalize(&template));
    if let Some((index, (got, want))) =
        stamped_lines.iter().zip(&template_lines).enumerate().find(|(_, (got, want))| got != want)
    {
        panic!(
            "rvmini.inf differs from driver.inx beyond the stamps (line {}):\n  inf: {got}\n  inx: {want}",
            index + 1
        );
    }
    assert_eq!(stamped_lines.len(), template_lines.len(), "rvmini.inf and driver.inx differ in length");
    assert!(stamped.contains("\r\n"), "rvmini.inf uses CRLF line endings");
}

// --- the parser itself ---------------------------------------------------------------------

#[test]
fn parser_handles_comments_quotes_continuations_and_escapes() {
    let text = "[Version]\r\nSignature = \"$Windows NT$\" ; comment\r\n\
                [A]\nHKR, Ndi\\Interfaces, UpperRange, 0, \"nd;is\"\"5\"\n\
                Key = one, \\\n   two ; continued\n\
                Path = %13%\\x.sys\nPct = \"%%SystemRoot%%\\a\"\nName = %Tok%\n\
                [a]\nMore = 1\n\
                [Strings]\nTok = \"Value, with comma\"\n";
    let inf = Inf::parse(text).unwrap();
    assert_eq!(inf.value("Version", "Signature"), "$Windows NT$");
    let a = inf.section("A");
    assert_eq!(a.len(), 6, "[A] and [a] merge: {a:?}");
    assert_eq!(a[0].key, None);
    assert_eq!(a[0].fields, ["HKR", "Ndi\\Interfaces", "UpperRange", "0", "nd;is\"5"]);
    assert_eq!(inf.value("A", "Key"), "one,two");
    assert_eq!(inf.value("A", "Path"), "%13%\\x.sys");
    assert_eq!(inf.value("A", "Pct"), "%SystemRoot%\\a");
    assert_eq!(inf.value("A", "Name"), "Value, with comma");
    assert_eq!(inf.value("A", "More"), "1");
}

#[test]
fn parser_reports_missing_strings_and_broken_lines() {
    let inf = Inf::parse("[A]\nName = %Nope%\n[Strings]\nYes = \"y\"\n").unwrap();
    assert!(inf.resolve("%Nope%").is_err());
    assert!(inf.resolve("%yes%").is_ok(), "tokens are case-insensitive");
    assert!(inf.resolve("50% off").is_err(), "a lone % is an unterminated token");
    assert!(Inf::parse("Key = 1\n").is_err(), "entry before any section");
    assert!(Inf::parse("[A]\nKey = \"open\n").is_err(), "unbalanced quote");
    assert!(Inf::parse("[A]\nKey = 1 \\\n").is_err(), "continuation at end of file");
    assert!(Inf::parse("[A\n").is_err(), "unterminated section header");
}
