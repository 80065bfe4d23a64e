//! The protobuf wire format: varints and length-delimited fields.

use super::ProtobufError;

pub enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// (field number, value) pairs of one message; fixed32/64 values are skipped.
pub fn fields(mut data: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ProtobufError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = varint(&mut data)?;
        let (number, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => out.push((number, Field::Varint(varint(&mut data)?))),
            2 => {
                let len =
                    usize::try_from(varint(&mut data)?).map_err(|_| ProtobufError::Malformed)?;
                if data.len() < len {
                    return Err(ProtobufError::Malformed);
                }
                out.push((number, Field::Bytes(&data[..len])));
                data = &data[len..];
            }
            1 => data = data.get(8..).ok_or(ProtobufError::Malformed)?,
            5 => data = data.get(4..).ok_or(ProtobufError::Malformed)?,
            _ => return Err(ProtobufError::Malformed),
        }
    }
    Ok(out)
}

fn varint(data: &mut &[u8]) -> Result<u64, ProtobufError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = data.split_first().ok_or(ProtobufError::Malformed)?;
        *data = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtobufError::Malformed)
}
