//! Compression of a finished document's streams, with libdeflate, in parallel where the caller is not already
//! parallel. Changes how streams are stored, never what they hold; knows nothing of layout.

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
        let mut out = vec![0; compressor.zlib_compress_bound(stream.content.len())];
        let Ok(n) = compressor.zlib_compress(&stream.content, &mut out) else {
            return;
        };
        if n + 19 < stream.content.len() {
            out.truncate(n);
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
