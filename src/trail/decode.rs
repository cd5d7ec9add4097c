//! Gzip decompression of whole archive files, as fast as this machine allows.
//!
//! libdeflate decompresses a whole buffer in one call (about twice zlib's speed) into a buffer sized by the
//! gzip trailer's ISIZE; when that size is absent or implausible (a truncated file, several gzip members) the
//! streaming decoder of `flate2` decides. Never panics on damaged input: a damaged file is an error to report.

use std::cell::RefCell;
use std::io::Read;

/// Largest decompressed file accepted (CloudTrail files are far smaller; this bounds memory on garbage input).
pub const MAX_UNCOMPRESSED: usize = 1 << 30;

thread_local! {
    static DECOMPRESSOR: RefCell<libdeflater::Decompressor> = RefCell::new(libdeflater::Decompressor::new());
    /// Reused output buffer: it only grows, so a file is never zero-filled before libdeflate overwrites it.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Decompresses `data` into this thread's reused buffer and hands the result to `f` (same rules as [`gunzip`]).
/// Saves an allocation and a zero-fill per file on the hot path of archive scans.
pub fn with_gunzipped<R>(data: &[u8], f: impl FnOnce(Result<&[u8], String>) -> R) -> R {
    if let Some(claimed) = claimed_size(data) {
        let done = BUFFER.with(|cell| {
            let mut buffer = cell.borrow_mut();
            if buffer.len() < claimed {
                buffer.resize(claimed, 0);
            }
            let result =
                DECOMPRESSOR.with(|d| d.borrow_mut().gzip_decompress(data, &mut buffer[..claimed]));
            match result {
                Ok(n) if n == claimed => Some(n),
                _ => None,
            }
        });
        if let Some(n) = done {
            return BUFFER.with(|cell| f(Ok(&cell.borrow()[..n])));
        }
    }
    match gunzip(data) {
        Ok(json) => f(Ok(&json)),
        Err(e) => f(Err(e)),
    }
}

/// The uncompressed size a single-member gzip file claims (its ISIZE trailer), when plausible.
fn claimed_size(data: &[u8]) -> Option<usize> {
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b {
        return None;
    }
    let trailer = [
        data[data.len() - 4],
        data[data.len() - 3],
        data[data.len() - 2],
        data[data.len() - 1],
    ];
    let claimed = u32::from_le_bytes(trailer) as usize;
    (claimed <= MAX_UNCOMPRESSED && claimed <= data.len().saturating_mul(1032)).then_some(claimed)
}

/// Decompresses one gzip file. The error says what is wrong, for the unreadable-evidence list.
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b {
        return Err(format!("not gzip ({} bytes, no gzip header)", data.len()));
    }
    let isize_bytes = [
        data[data.len() - 4],
        data[data.len() - 3],
        data[data.len() - 2],
        data[data.len() - 1],
    ];
    let claimed = u32::from_le_bytes(isize_bytes) as usize;
    // DEFLATE cannot expand more than ~1032:1; a larger claim is a damaged trailer.
    if claimed <= MAX_UNCOMPRESSED && claimed <= data.len().saturating_mul(1032) {
        let mut out = vec![0u8; claimed];
        let result = DECOMPRESSOR.with(|d| d.borrow_mut().gzip_decompress(data, &mut out));
        match result {
            Ok(n) if n == claimed => return Ok(out),
            Ok(_) | Err(libdeflater::DecompressionError::InsufficientSpace) => {}
            Err(libdeflater::DecompressionError::BadData) => {}
        }
    }
    streaming(data)
}

/// The slow path: a streaming, multi-member decoder that names the damage.
fn streaming(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(8).min(MAX_UNCOMPRESSED));
    let decoder = flate2::read::MultiGzDecoder::new(data);
    let mut limited = decoder.take(MAX_UNCOMPRESSED as u64 + 1);
    match limited.read_to_end(&mut out) {
        Ok(_) if out.len() > MAX_UNCOMPRESSED => Err(format!(
            "decompresses to more than {MAX_UNCOMPRESSED} bytes"
        )),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(format!(
            "truncated gzip (ends after {} decompressed bytes)",
            out.len()
        )),
        Err(e) => Err(format!("corrupt gzip: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("compress");
        e.finish().expect("finish")
    }

    #[test]
    fn round_trips() {
        let text = b"{\"Records\":[]}".repeat(1000);
        assert_eq!(gunzip(&gz(&text)).expect("ok"), text);
    }

    #[test]
    fn multi_member_files_are_read_whole() {
        let mut both = gz(b"hello ");
        both.extend(gz(b"world"));
        assert_eq!(gunzip(&both).expect("ok"), b"hello world");
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let good = gz(&b"{\"Records\":[{\"eventID\":\"x\"}]}".repeat(500));
        let truncated = &good[..good.len() / 2];
        assert!(gunzip(truncated).expect_err("truncated").contains("gzip"));
        let mut flipped = good.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        flipped[mid + 1] ^= 0x55;
        assert!(
            gunzip(&flipped).is_err(),
            "the CRC catches what the inflater does not"
        );
        assert!(gunzip(b"plain text, not gzip at all")
            .expect_err("not gzip")
            .contains("not gzip"));
        assert!(gunzip(&[]).is_err());
    }
}
