//! Phone numbers as match keys.
//!
//! Records that have no Dialer ID yet (a page a person typed into Notion) are
//! matched by phone, so `(415) 555-0100`, `415.555.0100` and `+1 415 555 0100`
//! must be one key. The stored phone is never rewritten: normalisation is
//! only for matching.

use phonenumber::{country, Mode};

/// The default region for numbers written without a country code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region(country::Id);

impl Region {
    pub const US: Region = Region(country::Id::US);

    pub fn parse(code: &str) -> Result<Region, String> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .map(Region)
            .map_err(|_| format!("{code:?} is not a two-letter country code such as US or GB"))
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::US
    }
}

/// The match key for a phone number: the number as the phone library reads
/// it in the default region, in E.164, whether or not its data calls the
/// number valid (fictional 555 numbers, area codes it lacks): the
/// dialer's `555-777-8888` and Notion's `+1 (555) 777-8888` are one number.
/// Only text the library cannot read as a number at all falls back to its
/// digits. `None` when there are fewer than three digits.
pub fn match_key(raw: &str, region: Region) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 {
        return None;
    }
    match phonenumber::parse(Some(region.0), raw) {
        Ok(number) => Some(number.format().mode(Mode::E164).to_string()),
        Err(_) => Some(digits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_number_share_a_key() {
        let keys: Vec<_> = [
            "(415) 555-0100",
            "415.555.0100",
            "+1 415 555 0100",
            "1-415-555-0100",
        ]
        .iter()
        .map(|s| match_key(s, Region::US))
        .collect();
        assert!(
            keys.iter().all(|k| k.as_deref() == Some("+14155550100")),
            "{keys:?}"
        );
    }

    #[test]
    fn numbers_the_library_calls_invalid_still_match_their_spellings() {
        // 555 numbers are fictional: no region's data calls them valid.
        let keys: Vec<_> = [
            "555-777-8888",
            "+1 (555) 777-8888",
            "5557778888",
            "1-555-777-8888",
        ]
        .iter()
        .map(|s| match_key(s, Region::US))
        .collect();
        assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
        assert_ne!(keys[0], match_key("555-777-8889", Region::US));
    }

    #[test]
    fn other_regions_and_short_numbers() {
        let gb = Region::parse("gb").unwrap();
        assert_eq!(
            match_key("020 7946 0018", gb).as_deref(),
            Some("+442079460018")
        );
        assert_eq!(
            match_key("+44 20 7946 0018", Region::US).as_deref(),
            Some("+442079460018")
        );
        assert_eq!(
            match_key("555-1111", Region::US),
            match_key("(555) 1111", Region::US)
        );
        assert_eq!(match_key("n/a", Region::US), None);
        assert!(Region::parse("Narnia").is_err());
    }
}
