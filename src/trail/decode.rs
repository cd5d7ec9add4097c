//! Gzip decompression of whole archive files, as fast as this machine allows.
//!
//! libdeflate decompresses a whole buffer in one call (about twice zlib's speed) into a buffer sized by the
//! gzip trailer's ISIZE; when that size is absent or implausible (a truncated file, several gzip members, a
//! trailer that lies) the streaming decoder of `flate2` decides. Never panics on damaged input: a damaged file
//! is an error to report. Every file is capped: one that decompresses to more than the cap (a gzip bomb, or
//! not a CloudTrail file) is an error naming the cap, and memory never holds more than the cap per file.

use std::cell::RefCell;
use std::io::Read;

/// Default cap on one file's decompressed size. CloudTrail delivers a file per account, region and ~5 minutes;
/// even busy accounts' files are a few tens of MB. Configurable (`trail scan --max-file-mb`).
pub const DEFAULT_MAX_UNCOMPRESSED: usize = 256 << 20;

thread_local! {
    static DECOMPRESSOR: RefCell<libdeflater::Decompressor> = RefCell::new(libdeflater::Decompressor::new());
    /// Reused output buffer: it only grows, so a file is never zero-filled before libdeflate overwrites it.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Decompresses `data` into this thread's reused buffer and hands the result to `f` (same rules as
/// [`gunzip_capped`]). Saves an allocation and a zero-fill per file on the hot path of archive scans.
pub fn with_gunzipped<R>(data: &[u8], cap: usize, f: impl FnOnce(Result<&[u8], String>) -> R) -> R {
    if let Some(claimed) = claimed_size(data, cap) {
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
    match gunzip_capped(data, cap) {
        Ok(json) => f(Ok(&json)),
        Err(e) => f(Err(e)),
    }
}

/// The uncompressed size a single-member gzip file claims (its ISIZE trailer), when plausible and within `cap`.
fn claimed_size(data: &[u8], cap: usize) -> Option<usize> {
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
    (claimed <= cap && claimed <= data.len().saturating_mul(1032)).then_some(claimed)
}

/// Decompresses one gzip file of at most [`DEFAULT_MAX_UNCOMPRESSED`] bytes (digest files are tiny).
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    gunzip_capped(data, DEFAULT_MAX_UNCOMPRESSED)
}

/// Decompresses one gzip file of at most `cap` decompressed bytes. The error says what is wrong, for the
/// unreadable-evidence list.
pub fn gunzip_capped(data: &[u8], cap: usize) -> Result<Vec<u8>, String> {
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
    if claimed <= cap && claimed <= data.len().saturating_mul(1032) {
        let mut out = vec![0u8; claimed];
        let result = DECOMPRESSOR.with(|d| d.borrow_mut().gzip_decompress(data, &mut out));
        match result {
            Ok(n) if n == claimed => return Ok(out),
            Ok(_) | Err(libdeflater::DecompressionError::InsufficientSpace) => {}
            Err(libdeflater::DecompressionError::BadData) => {}
        }
    }
    streaming(data, cap)
}

/// The slow path: a streaming, multi-member decoder that names the damage, stopped one byte past the cap.
fn streaming(data: &[u8], cap: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(8).min(cap));
    let decoder = flate2::read::MultiGzDecoder::new(data);
    let mut limited = decoder.take(cap as u64 + 1);
    match limited.read_to_end(&mut out) {
        Ok(_) if out.len() > cap => Err(format!(
            "decompresses to more than the cap of {} (a gzip bomb, or not a CloudTrail file)",
            human_bytes(cap as u64)
        )),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(format!(
            "truncated gzip (ends after {} decompressed bytes)",
            out.len()
        )),
        Err(e) => Err(format!("corrupt gzip: {e}")),
    }
}

/// "256 MiB", "1.5 KiB": sizes in messages.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
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
    fn a_gzip_bomb_over_the_cap_is_an_error_naming_the_cap() {
        // 64 MiB of zeros compresses to ~64 KiB; the trailer even says so honestly.
        let bomb = gz(&vec![0u8; 64 << 20]);
        let err = gunzip_capped(&bomb, 8 << 20).expect_err("over the cap");
        assert!(err.contains("more than the cap of 8 MiB"), "{err}");
        let via_buffer = with_gunzipped(&bomb, 8 << 20, |r| r.map(<[u8]>::len));
        assert!(via_buffer.is_err_and(|e| e.contains("8 MiB")));
        // A lying trailer (claims 10 bytes) goes the streaming way and is stopped at the cap too.
        let mut liar = bomb.clone();
        let n = liar.len();
        liar[n - 4..].copy_from_slice(&10u32.to_le_bytes());
        assert!(gunzip_capped(&liar, 8 << 20).is_err());
        assert_eq!(
            gunzip_capped(&bomb, 64 << 20).expect("at the cap").len(),
            64 << 20
        );
        assert_eq!(human_bytes(256 << 20), "256 MiB");
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
