//! Reads a certificate's validity period (notBefore, notAfter) from its DER, for the
//! checks webpki cannot be asked to make on their own.

/// (tag, contents, rest) of one DER element.
fn element(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, data) = data.split_first()?;
    let (&first, mut data) = data.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || data.len() < count {
            return None;
        }
        let len = data[..count]
            .iter()
            .fold(0usize, |len, b| (len << 8) | usize::from(*b));
        data = &data[count..];
        len
    };
    (data.len() >= len).then(|| (tag, &data[..len], &data[len..]))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime (`YYYYMMDDHHMMSSZ`, 0x18)
/// as seconds since the epoch.
fn time(tag: u8, text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = text.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    if rest.len() != 10 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |i: usize| rest[i..i + 2].parse::<i64>().ok();
    let days = days_from_civil(year, n(0)?, n(2)?);
    Some(days * 86_400 + n(4)? * 3_600 + n(6)? * 60 + n(8)?)
}

/// (notBefore, notAfter) in seconds since the epoch.
pub fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (_, certificate, _) = element(der)?;
    let (_, mut tbs, _) = element(certificate)?;
    // An explicit version ([0]) comes first when present.
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs)?.2;
    }
    let (_, _, rest) = element(tbs)?; // serialNumber
    let (_, _, rest) = element(rest)?; // signature algorithm
    let (_, _, rest) = element(rest)?; // issuer
    let (_, validity, _) = element(rest)?;
    let (tag, not_before, rest) = element(validity)?;
    let not_before = time(tag, not_before)?;
    let (tag, not_after, _) = element(rest)?;
    Some((not_before, time(tag, not_after)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_validity_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["a.test".to_string()]).expect("params");
        params.not_before = rcgen::date_time_ymd(2001, 2, 3);
        params.not_after = rcgen::date_time_ymd(2061, 4, 5);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let (not_before, not_after) = validity(cert.der()).expect("validity");
        assert_eq!(not_before, 981_158_400);
        assert_eq!(not_after, 2_879_884_800);
    }

    #[test]
    fn garbage_has_no_validity() {
        assert_eq!(validity(b"\x30\x03\x02\x01"), None);
    }
}
