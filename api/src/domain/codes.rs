//! Official identifiers: format and checksum validation of INSEE codes and SIRENs.

use crate::error::{AppError, AppResult};

/// Luhn checksum, as used by SIREN and SIRET.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Checks a SIREN: nine digits with a valid Luhn checksum.
pub fn check_siren(argument: &str, siren: &str) -> AppResult<()> {
    if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_input(
            argument,
            format!("`{siren}` is not a SIREN: expected 9 digits"),
        ));
    }
    if !luhn_valid(siren) {
        return Err(AppError::bad_input(
            argument,
            format!("`{siren}` is not a SIREN: its check digit is wrong (Luhn)"),
        ));
    }
    Ok(())
}

/// Checks an INSEE COG code of any kind: a commune (5 characters, `2A`/`2B` for Corsica),
/// a département (`01`…`95`, `2A`, `2B`, `971`…`989`) or a région (2 digits).
pub fn check_insee_code(argument: &str, code: &str) -> AppResult<()> {
    let b = code.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let corsica = |s: &[u8]| s.len() >= 2 && s[0] == b'2' && matches!(s[1], b'A' | b'B');
    let ok = match b.len() {
        2 => digits(b) || corsica(b),
        3 => digits(b) && b[0] == b'9' && b[1] >= b'7',
        5 => digits(b) || (corsica(b) && digits(&b[2..])),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!(
                "`{code}` is not an INSEE code: expected a commune (5 characters, e.g. 35238, 2A004), \
                 a département (e.g. 35, 2A, 974) or a région (e.g. 53)"
            ),
        ))
    }
}

/// Checks a département's INSEE code: `01`…`95` (`2A` and `2B` for Corsica, not `20`), or
/// `971`…`974` and `976` overseas.
pub fn check_departement_code(argument: &str, code: &str) -> AppResult<()> {
    let b = code.as_bytes();
    let ok = match b {
        [b'2', b'A' | b'B'] => true,
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            !matches!(code, "00" | "20" | "96" | "97" | "98" | "99")
        }
        [b'9', b'7', c] => matches!(c, b'1'..=b'4' | b'6'),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!("`{code}` is not a département code: expected e.g. 35, 2A or 974"),
        ))
    }
}

/// Whether `code` has the form of a BANATIC competence code (`C` followed by four digits).
pub fn is_competence_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5 && b[0] == b'C' && b[1..].iter().all(u8::is_ascii_digit)
}

/// Checks a BANATIC-style competence code (`C` followed by four digits).
pub fn check_competence_code(argument: &str, code: &str) -> AppResult<()> {
    if is_competence_code(code) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!("`{code}` is not a competence code: expected C followed by 4 digits"),
        ))
    }
}

/// Checks a SIRET: fourteen digits with a valid Luhn checksum (La Poste's establishments,
/// SIREN 356000000, use a digit sum divisible by 5 instead), whose first nine are a SIREN
/// (the organisation is known by them from then on).
pub fn check_siret(argument: &str, siret: &str) -> AppResult<()> {
    if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_input(
            argument,
            format!("`{siret}` is not a SIRET: expected 14 digits"),
        ));
    }
    let la_poste = siret.starts_with("356000000")
        && siret.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0;
    if !la_poste && !luhn_valid(siret) {
        return Err(AppError::bad_input(
            argument,
            format!("`{siret}` is not a SIRET: its check digit is wrong (Luhn)"),
        ));
    }
    if !luhn_valid(&siret[..9]) {
        return Err(AppError::bad_input(
            argument,
            format!("`{siret}` is not a SIRET: its first nine digits are not a SIREN (Luhn)"),
        ));
    }
    Ok(())
}

/// Checks an RNA number (répertoire national des associations): `W` and nine characters,
/// digits or (for old Alsace-Moselle numbers) letters.
pub fn check_rna(argument: &str, rna: &str) -> AppResult<()> {
    let b = rna.as_bytes();
    if b.len() == 10 && b[0] == b'W' && b[1..].iter().all(u8::is_ascii_alphanumeric) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!("`{rna}` is not an RNA number: expected W followed by 9 characters"),
        ))
    }
}

/// Checks an email address (one `@`, a dotted domain, no spaces).
pub fn check_email(argument: &str, email: &str) -> AppResult<()> {
    let ok = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!("`{email}` is not an email address"),
        ))
    }
}

/// Checks a telephone number: 6 to 15 digits, optionally with a leading `+` and spaces,
/// dots or dashes between digits.
pub fn check_phone(argument: &str, phone: &str) -> AppResult<()> {
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    let ok = (6..=15).contains(&digits)
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!("`{phone}` is not a telephone number"),
        ))
    }
}

/// Checks a web address: `http://` or `https://`, a host, no spaces.
pub fn check_url(argument: &str, url: &str) -> AppResult<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = url.len() <= 2048
        && !url.contains(char::is_whitespace)
        && rest.is_some_and(|r| r.split('/').next().is_some_and(|host| host.contains('.')));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!("`{url}` is not an http(s) address"),
        ))
    }
}

/// Checks a free text's length (in characters) after trimming; returns the trimmed text.
pub fn check_text(argument: &str, text: &str, min: usize, max: usize) -> AppResult<String> {
    let t = text.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(AppError::bad_input(
            argument,
            format!("`{argument}` must have {min} to {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siren_checks() {
        assert!(check_siren("s", "210100012").is_ok());
        assert!(check_siren("s", "200000172").is_ok());
        assert!(check_siren("s", "210100013").is_err());
        assert!(check_siren("s", "21010001").is_err());
        assert!(check_siren("s", "21010001a").is_err());
    }

    #[test]
    fn partner_identifier_checks() {
        assert!(check_siret("s", "73282932000074").is_ok());
        assert!(check_siret("s", "73282932000075").is_err());
        assert!(check_siret("s", "7328293200007").is_err());
        for code in ["01", "35", "2A", "2B", "95", "971", "974", "976"] {
            assert!(check_departement_code("d", code).is_ok(), "{code}");
        }
        for code in ["00", "20", "96", "975", "977", "35238", "3", "2C", "9A"] {
            assert!(check_departement_code("d", code).is_err(), "{code}");
        }
        // A valid checksum over fourteen digits whose first nine are not a SIREN.
        assert!(check_siret("s", "12345678900007").is_err());
        // La Poste's head office: its SIREN passes Luhn too.
        assert!(check_siret("s", "35600000000048").is_ok());
        assert!(check_rna("r", "W751234567").is_ok());
        assert!(check_rna("r", "X751234567").is_err());
        assert!(check_rna("r", "W75123456").is_err());
        assert!(check_email("e", "mairie@rennes.fr").is_ok());
        assert!(check_email("e", "mairie@rennes").is_err());
        assert!(check_email("e", "a b@c.fr").is_err());
        assert!(check_phone("p", "+33 2 23 62 10 10").is_ok());
        assert!(check_phone("p", "02.23.62.10.10").is_ok());
        assert!(check_phone("p", "call me").is_err());
        assert!(check_url("u", "https://metropole.rennes.fr/").is_ok());
        assert!(check_url("u", "javascript:alert(1)").is_err());
    }

    #[test]
    fn insee_checks() {
        for ok in [
            "35238", "2A004", "2B033", "97105", "35", "2A", "974", "53", "01",
        ] {
            assert!(check_insee_code("c", ok).is_ok(), "{ok}");
        }
        for bad in [
            "3523", "352388", "2C004", "ABCDE", "", "123", "2A0B4", "35 238",
        ] {
            assert!(check_insee_code("c", bad).is_err(), "{bad}");
        }
    }
}
