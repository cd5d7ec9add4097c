//! Compression of a finished document's streams, with libdeflate, in parallel where the caller is not already
//! parallel. Changes how streams are stored, never what they hold; knows nothing of layout.

use std::sync::OnceLock;

/// FlateDecode every stream that allows it and is not encoded yet, where that makes it smaller (as lopdf's own
/// `compress` does, with libdeflate instead of zlib level 9, streams in parallel).
pub(super) fn compress_streams(pdf: &mut lopdf::Document) {
    use rayon::prelude::*;
    let mut streams: Vec<&mut lopdf::Stream> = pdf
        .objects
        .values_mut()
        .filter_map(|object| match object {
            lopdf::Object::Stream(stream)
                if stream.allows_compression && stream.dict.get(b"Filter").is_err() =>
            {
                Some(stream)
            }
            _ => None,
        })
        .collect();
    let new_compressor = || libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
    let compress = |compressor: &mut libdeflater::Compressor, stream: &mut &mut lopdf::Stream| {
        let compressed = match compressed_font_program(&stream.content) {
            Some(done) => done.clone(),
            None => deflate(compressor, &stream.content),
        };
        if let Some(out) = compressed {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(out);
        }
    };
    if rayon::current_thread_index().is_some() {
        // Called from a rayon worker (a caller laying out documents in parallel): a nested parallel loop would let
        // this thread start another document while it waits, holding more layouts in memory than there are threads.
        let mut compressor = new_compressor();
        streams
            .iter_mut()
            .for_each(|s| compress(&mut compressor, s));
    } else {
        streams
            .par_iter_mut()
            .for_each_init(new_compressor, compress);
    }
}

/// `content` in zlib format when that is smaller (by more than the 19 bytes `/Filter/FlateDecode` costs).
fn deflate(compressor: &mut libdeflater::Compressor, content: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0; compressor.zlib_compress_bound(content.len())];
    let n = compressor.zlib_compress(content, &mut out).ok()?;
    (n + 19 < content.len()).then(|| {
        out.truncate(n);
        out
    })
}

/// The compressed form of a shipped font program, made once per process: every document embeds the same two
/// programs whole (1.47 MB), and compressing them again for each volume of a large report was most of its
/// compression time. The same compressor and level as [`deflate`], so the bytes are the same as before.
fn compressed_font_program(content: &[u8]) -> Option<&'static Option<Vec<u8>>> {
    static DONE: [OnceLock<Option<Vec<u8>>>; 2] = [OnceLock::new(), OnceLock::new()];
    let (index, program) = super::fonts::PROGRAMS
        .iter()
        .enumerate()
        .find(|(_, program)| program.len() == content.len() && **program == content)?;
    Some(DONE[index].get_or_init(|| {
        let mut compressor = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        deflate(&mut compressor, program)
    }))
}
