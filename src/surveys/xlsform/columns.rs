//! Columns and languages: which column means what, and the languages the labels come in.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Field {
    Type,
    Name,
    Label,
    Hint,
    Required,
    Relevant,
    Constraint,
    ConstraintMessage,
    ListName,
    Value,
    FormTitle,
    FormId,
    IdString,
    Version,
    DefaultLanguage,
    /// clusterpulse's own columns, which make a performance survey: `kind`, `respondent`
    /// and `framework` in the settings, `indicator` on questions, `score` on choices.
    Kind,
    Respondent,
    /// The survey's introduction (a localised settings column of clusterpulse's own).
    Description,
    Framework,
    Indicator,
    Score,
    /// `calculate` questions.
    Calculation,
    /// Select questions: which options are offered.
    ChoiceFilter,
    /// `range` questions: `start=… end=… step=…`.
    Parameters,
    /// The settings' `allow_choice_duplicates` (clusterpulse allows a shared value when the
    /// options' filter columns differ, so it needs no switch).
    AllowChoiceDuplicates,
}

impl Field {
    pub(super) fn localised(self) -> bool {
        matches!(
            self,
            Field::Label
                | Field::Hint
                | Field::ConstraintMessage
                | Field::FormTitle
                | Field::Description
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SheetKind {
    Survey,
    Choices,
    Settings,
}

/// A header split into its field name and language part, lower-cased.
pub(super) fn split_header(header: &str) -> (String, Option<String>) {
    let lower = header.trim().to_lowercase();
    let mut s = lower.as_str();
    for prefix in ["bind::", "bind:", "body::", "body:"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    for prefix in ["jr::", "jr:"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    let (base, lang) = if let Some(i) = s.find("::") {
        (&s[..i], Some(&s[i + 2..]))
    } else if let Some(i) = s.find(':') {
        (&s[..i], Some(&s[i + 1..]))
    } else {
        (s, None)
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join("_");
    let lang = lang
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string);
    (base, lang)
}

pub(super) fn field_of(kind: SheetKind, base: &str) -> Option<Field> {
    let f = match (kind, base) {
        (SheetKind::Survey, "type") => Field::Type,
        (SheetKind::Survey | SheetKind::Choices, "name") => Field::Name,
        (SheetKind::Survey | SheetKind::Choices, "label") => Field::Label,
        (SheetKind::Survey, "hint") => Field::Hint,
        (SheetKind::Survey, "required") => Field::Required,
        (SheetKind::Survey, "relevant") => Field::Relevant,
        (SheetKind::Survey, "constraint") => Field::Constraint,
        (SheetKind::Survey, "constraint_message" | "constraintmsg" | "constraint_msg") => {
            Field::ConstraintMessage
        }
        (SheetKind::Choices, "list_name" | "listname") => Field::ListName,
        (SheetKind::Choices, "value") => Field::Value,
        // pyxform takes only a plain `form_title`; clusterpulse writes the other languages
        // as `translated_title::Language (code)`.
        (SheetKind::Settings, "form_title" | "title" | "translated_title") => Field::FormTitle,
        (SheetKind::Settings, "form_id") => Field::FormId,
        (SheetKind::Settings, "id_string") => Field::IdString,
        (SheetKind::Settings, "version") => Field::Version,
        (SheetKind::Settings, "default_language") => Field::DefaultLanguage,
        (SheetKind::Settings, "kind") => Field::Kind,
        (SheetKind::Settings, "description") => Field::Description,
        (SheetKind::Settings, "respondent") => Field::Respondent,
        (SheetKind::Settings, "framework") => Field::Framework,
        (SheetKind::Survey, "indicator") => Field::Indicator,
        (SheetKind::Choices, "score") => Field::Score,
        (SheetKind::Survey, "calculation" | "calculate") => Field::Calculation,
        (SheetKind::Survey, "choice_filter") => Field::ChoiceFilter,
        (SheetKind::Survey, "parameters") => Field::Parameters,
        (SheetKind::Settings, "allow_choice_duplicates") => Field::AllowChoiceDuplicates,
        _ => return None,
    };
    Some(f)
}

/// Common language names (in English, French and the language itself) and their codes.
pub(super) const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("english", "en"),
    ("anglais", "en"),
    ("inglés", "en"),
    ("ingles", "en"),
    ("french", "fr"),
    ("français", "fr"),
    ("francais", "fr"),
    ("francés", "fr"),
    ("frances", "fr"),
    ("spanish", "es"),
    ("español", "es"),
    ("espanol", "es"),
    ("espagnol", "es"),
    ("castellano", "es"),
    ("arabic", "ar"),
    ("arabe", "ar"),
    ("العربية", "ar"),
    ("عربي", "ar"),
    ("portuguese", "pt"),
    ("português", "pt"),
    ("portugues", "pt"),
    ("portugais", "pt"),
    ("swahili", "sw"),
    ("kiswahili", "sw"),
    ("chinese", "zh"),
    ("中文", "zh"),
    ("mandarin", "zh"),
    ("russian", "ru"),
    ("русский", "ru"),
    ("ukrainian", "uk"),
    ("українська", "uk"),
    ("hindi", "hi"),
    ("bengali", "bn"),
    ("bangla", "bn"),
    ("urdu", "ur"),
    ("persian", "fa"),
    ("farsi", "fa"),
    ("dari", "prs"),
    ("pashto", "ps"),
    ("pashtu", "ps"),
    ("somali", "so"),
    ("amharic", "am"),
    ("tigrinya", "ti"),
    ("oromo", "om"),
    ("afaan oromoo", "om"),
    ("hausa", "ha"),
    ("yoruba", "yo"),
    ("igbo", "ig"),
    ("kanuri", "kr"),
    ("fulfulde", "ff"),
    ("fula", "ff"),
    ("wolof", "wo"),
    ("bambara", "bm"),
    ("lingala", "ln"),
    ("kinyarwanda", "rw"),
    ("kirundi", "rn"),
    ("luganda", "lg"),
    ("sango", "sg"),
    ("malagasy", "mg"),
    ("shona", "sn"),
    ("chichewa", "ny"),
    ("nyanja", "ny"),
    ("zulu", "zu"),
    ("xhosa", "xh"),
    ("afrikaans", "af"),
    ("dinka", "din"),
    ("nuer", "nus"),
    ("turkish", "tr"),
    ("türkçe", "tr"),
    ("kurdish", "ku"),
    ("kurmanji", "kmr"),
    ("sorani", "ckb"),
    ("hebrew", "he"),
    ("armenian", "hy"),
    ("georgian", "ka"),
    ("azerbaijani", "az"),
    ("uzbek", "uz"),
    ("tajik", "tg"),
    ("kyrgyz", "ky"),
    ("kazakh", "kk"),
    ("mongolian", "mn"),
    ("nepali", "ne"),
    ("tamil", "ta"),
    ("sinhala", "si"),
    ("burmese", "my"),
    ("myanmar", "my"),
    ("rohingya", "rhg"),
    ("thai", "th"),
    ("khmer", "km"),
    ("lao", "lo"),
    ("vietnamese", "vi"),
    ("indonesian", "id"),
    ("bahasa indonesia", "id"),
    ("malay", "ms"),
    ("tagalog", "tl"),
    ("filipino", "fil"),
    ("tetum", "tet"),
    ("japanese", "ja"),
    ("korean", "ko"),
    ("german", "de"),
    ("deutsch", "de"),
    ("italian", "it"),
    ("italiano", "it"),
    ("dutch", "nl"),
    ("polish", "pl"),
    ("romanian", "ro"),
    ("greek", "el"),
    ("serbian", "sr"),
    ("croatian", "hr"),
    ("bosnian", "bs"),
    ("albanian", "sq"),
    ("haitian creole", "ht"),
    ("kreyòl", "ht"),
    ("creole", "ht"),
    ("quechua", "qu"),
    ("guarani", "gn"),
    ("aymara", "ay"),
];

pub(super) fn is_code(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic())
}

/// A language header (`English (en)`, `fr`, `Français`, `pt-BR`) read as a code, when it
/// names one plainly; `None` when a code has to be derived.
pub(super) fn known_code(spec: &str) -> Option<String> {
    let spec = spec.trim().to_lowercase();
    if let (Some(open), true) = (spec.rfind('('), spec.ends_with(')')) {
        let inner = spec[open + 1..spec.len() - 1].trim();
        let primary = inner.split(['-', '_']).next().unwrap_or("");
        if is_code(primary) {
            return Some(primary.to_string());
        }
        if let Some(code) = known_code(&spec[..open]) {
            return Some(code);
        }
        return None;
    }
    if let Some((_, code)) = LANGUAGE_NAMES.iter().find(|(name, _)| *name == spec) {
        return Some(code.to_string());
    }
    if is_code(&spec) {
        return Some(spec);
    }
    let primary = spec.split(['-', '_']).next().unwrap_or("");
    if primary.len() < spec.len() && is_code(primary) {
        return Some(primary.to_string());
    }
    None
}

/// Maps every language header found in the workbook to a code. Codes are derived for
/// unknown names only after all plain codes are known, so a derived code never takes the
/// code of a language that is really there.
pub(super) struct Languages {
    pub(super) codes: HashMap<String, String>,
    pub(super) derived: BTreeMap<String, String>,
}

impl Languages {
    pub(super) fn new<'a>(specs: impl IntoIterator<Item = &'a str>) -> Languages {
        let specs: Vec<String> = specs
            .into_iter()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        let mut codes = HashMap::new();
        let mut used = BTreeSet::new();
        for spec in &specs {
            if let Some(code) = known_code(spec) {
                used.insert(code.clone());
                codes.insert(spec.clone(), code);
            }
        }
        let mut derived = BTreeMap::new();
        for spec in &specs {
            if codes.contains_key(spec) {
                continue;
            }
            let letters: Vec<char> = spec
                .chars()
                .filter(|c| c.is_ascii_alphabetic())
                .map(|c| c.to_ascii_lowercase())
                .collect();
            let mut candidates = Vec::new();
            if letters.len() >= 2 {
                candidates.push(letters.iter().take(3).collect::<String>());
                candidates.push(letters.iter().take(2).collect::<String>());
                for &c in letters.iter().skip(1) {
                    candidates.push(format!("{}{}", letters[0], c));
                }
            }
            // ISO 639 reserves qaa–qtz for local use.
            for second in 'a'..='t' {
                for third in 'a'..='z' {
                    candidates.push(format!("q{second}{third}"));
                }
            }
            let code = candidates
                .into_iter()
                .find(|c| !used.contains(c))
                .unwrap_or_else(|| "qaa".to_string());
            used.insert(code.clone());
            codes.insert(spec.clone(), code.clone());
            derived.insert(spec.clone(), code);
        }
        Languages { codes, derived }
    }

    pub(super) fn code(&self, spec: &str) -> Option<&str> {
        self.codes
            .get(&spec.trim().to_lowercase())
            .map(|s| s.as_str())
    }
}

/// Where each field of a sheet is.
#[derive(Debug, Default)]
pub(super) struct Columns {
    pub(super) single: HashMap<Field, usize>,
    /// Localised fields: (language code, column), in column order.
    pub(super) texts: HashMap<Field, Vec<(String, usize)>>,
    /// Columns that are not carried over.
    pub(super) other: Vec<usize>,
    /// (language code, header as written) for every localised column used.
    pub(super) language_columns: Vec<(String, String)>,
}

impl Columns {
    pub(super) fn col(&self, f: Field) -> Option<usize> {
        self.single.get(&f).copied()
    }

    pub(super) fn text(&self, f: Field, row: &GridRow) -> Text {
        let mut t = Text::new();
        for (lang, col) in self.texts.get(&f).map(|v| v.as_slice()).unwrap_or(&[]) {
            let v = row.get(Some(*col));
            if !v.is_empty() {
                t.insert(lang.clone(), v.to_string());
            }
        }
        t
    }

    pub(super) fn has(&self, f: Field) -> bool {
        self.single.contains_key(&f) || self.texts.contains_key(&f)
    }
}

pub(super) fn columns_of(
    grid: &Grid,
    kind: SheetKind,
    langs: &Languages,
    default_lang: &str,
    notes: &mut Vec<String>,
) -> Columns {
    let mut cols = Columns::default();
    let mut seen: HashMap<(Field, String), usize> = HashMap::new();
    for (i, header) in grid.header.iter().enumerate() {
        if header.is_empty() {
            continue;
        }
        let (base, lang) = split_header(header);
        let Some(field) = field_of(kind, &base).filter(|f| f.localised() || lang.is_none()) else {
            cols.other.push(i);
            continue;
        };
        let code = match &lang {
            Some(spec) if field.localised() => langs.code(spec).unwrap_or(default_lang),
            _ => default_lang,
        }
        .to_string();
        let key = (
            field,
            if field.localised() {
                code.clone()
            } else {
                String::new()
            },
        );
        if let Some(first) = seen.get(&key) {
            notes.push(format!(
                "sheet '{}': column {} ('{}') repeats column {} ('{}'); the first one is used \
                 and column {} is ignored",
                grid.name,
                column_letter(grid.first_col + i),
                header,
                column_letter(grid.first_col + first),
                grid.header[*first],
                column_letter(grid.first_col + i),
            ));
            continue;
        }
        seen.insert(key, i);
        if field.localised() {
            cols.texts.entry(field).or_default().push((code.clone(), i));
            cols.language_columns.push((code, header.clone()));
        } else {
            cols.single.insert(field, i);
        }
    }
    cols
}

/// Notes naming the columns of a sheet that hold something but are not carried over.
pub(super) fn note_other_columns(
    grid: &Grid,
    cols: &Columns,
    carried: &[usize],
    what: &str,
    notes: &mut Vec<String>,
) {
    let mut used = Vec::new();
    for &i in cols.other.iter().filter(|i| !carried.contains(i)) {
        let n = grid
            .rows
            .iter()
            .filter(|r| !r.get(Some(i)).is_empty())
            .count();
        if n > 0 {
            used.push(format!(
                "'{}' ({n} row{})",
                grid.header[i],
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    if !used.is_empty() {
        notes.push(format!(
            "sheet '{}': {what} not carried over: {}",
            grid.name,
            used.join(", ")
        ));
    }
}
