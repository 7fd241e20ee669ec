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

/// Checks a BANATIC-style competence code (`C` followed by four digits).
pub fn check_competence_code(argument: &str, code: &str) -> AppResult<()> {
    let b = code.as_bytes();
    if b.len() == 5 && b[0] == b'C' && b[1..].iter().all(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            argument,
            format!("`{code}` is not a competence code: expected C followed by 4 digits"),
        ))
    }
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
