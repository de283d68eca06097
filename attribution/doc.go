// Package attribution owns the span index over the text of accepted
// contributions and the attribution query over it: given a model's output,
// which contributions hold runs of it verbatim, and what share of the
// output's credit each contributor earns. It is OLMoTrace's method
// (Liu et al., 2025) over an infini-gram-style suffix-array index.
//
// It takes plain values: contribution CIDs, contributor addresses, and
// functions that open a file's bytes. It must not know libp2p, the p2p,
// daemon, datanet or storage packages: the daemon lists a snapshot's text
// files, feeds them to [Store.Build], ranks a model's contributions by
// acceptance into [Member]s, and signs and proves what [Searcher.Attribute]
// returns. Fees and reward epochs are the rewards sub-package's.
//
// A result is a deterministic function of the members' text, their ranks,
// the output and the [Params]: the same bytes on every machine, whatever
// the segment layout or the history of builds. There are no floats in it.
//
// # Text (the protocol named by [Normalization])
//
// Normalisation is byte-level and keeps lengths, so offsets in normalised
// text are offsets in the source: ASCII 'A'–'Z' become lower case; every
// byte 0x00–0x1F and 0x7F becomes a space; every other byte (UTF-8 above
// ASCII included) is unchanged. No normalised text holds 0x00, so 0x00
// separates pieces of text in a segment and no match crosses a piece. The
// output is normalised the same way.
//
// Kinds ([Indexable]): txt, md and csv files are one piece each, mapped
// byte for byte to the file. json and jsonl files give one piece per JSON
// string literal, keys and values alike, found by a streaming lexer that
// reads any bytes (invalid JSON included): outside a literal it skips to
// the next '"'; inside, runs of unescaped bytes map byte for byte to the
// source, and each escape sequence (\" \\ \/ \b \f \n \r \t, \uXXXX, a
// surrogate pair as one sequence of 12 bytes) maps its decoded UTF-8 to
// its source bytes as a whole. A lone surrogate decodes to U+FFFD; a
// backslash that starts no valid escape is an ordinary byte; a literal
// left open ends at the end of the file. [SourceText] gives, for source
// bytes a span names, the text they index, so a verifier holding the file
// checks a span with bytes.Equal(SourceText(kind, src), Normalize(nil,
// span text)).
//
// # Query
//
// [Searcher.Attribute], on output q (at most MaxOutputBytes; not empty or
// only spaces after normalisation):
//
//  1. Word bytes are ASCII letters and digits and bytes ≥ 0x80. A word
//     start is a word byte not preceded by one and not a UTF-8
//     continuation byte (0x80–0xBF; one only starts a word in invalid
//     UTF-8). At each word start, the longest prefix of the rest of q that
//     occurs in the members' text: a binary search of each segment's
//     suffix array and the longest common prefix with the suffixes either
//     side of where it would sort, the maximum over the segments.
//  2. Its end is trimmed: not inside a UTF-8 sequence it cuts short, not in
//     the middle of a word (when the bytes either side of the end are
//     both word bytes, back to the start of that word), no trailing
//     spaces. Spans shorter than MinSpanBytes are dropped, then spans
//     inside an earlier one. (Past a word start whose match ends at r, a
//     later start can only give a new span if its match goes past r, which
//     is monotone in the start: a binary search over the starts finds the
//     first that does, so a long verbatim copy costs a few searches rather
//     than one per word. The spans are the same.)
//  3. Each span's count is the number of its occurrences in the members'
//     text: the sum of its suffix-array range sizes over the segments,
//     exact because the segments are disjoint and hold only members.
//     Spans counted more than MaxSpanCount times are dropped.
//  4. The span is credited to the occurrence of the member with the lowest
//     (Rank, CID bytes), then the lowest (file, source offset); the
//     occurrence is mapped to its source bytes by the offset table. Later
//     copies earn nothing.
//  5. Its weight is length × 1,000,000 / count, rounded down: length times
//     rarity. The weights per contributor are summed and turned by
//     rewards.Shares into parts summing to exactly rewards.Scale. No span
//     gives no weights: the output is attributed to nobody.
//
// Spans may overlap (neither inside the other); each counts in full.
//
// # Parameters
//
// [DefaultParams] are MinSpanBytes 32, MaxSpanCount 64, MaxOutputBytes
// 64 KiB. English averages about 6 bytes per word with its space, so 32
// bytes is 5–6 words. BenchmarkChanceSpans attributes novel text drawn
// from the same Zipf law as a synthetic corpus (not copied from it): per
// 1,000-byte output it finds by chance 37.7 spans of 16 bytes or more over
// 100 MB, 3.8 of 24, 0.31 of 32 and none of 48; over 1 GB, 54.6, 8.1, 0.71
// and 0.03 of 40. A real quotation of 32 bytes or more (about six words)
// is found whole (the ground-truth tests). So 32 bytes keeps chance matches under one per
// output at these sizes; real prose repeats more than unigram noise, and a
// Datanet of many gigabytes may want 40–48. MaxSpanCount 64 drops
// boilerplate (licence headers, templates, stock phrases) that many
// contributions share: a span that common says little about which one a
// model learnt it from, and crediting its earliest holder in full would pay
// for the commonplace; weight divides by the count anyway, and the cap
// bounds the occurrences a query enumerates. MaxOutputBytes 64 KiB (about
// 13,000 tokens) is longer than most model outputs and bounds a query's
// work; [MaxOutputLimit] (1 MiB) is the most a node accepts.
//
// # Index on disk
//
// A [Store] is a directory:
//
//	FORMAT                       "openledger-attribution-index 1\n"
//	segments/<id>/meta.json      what the segment holds (JSON)
//	segments/<id>/text           the normalised text, raw bytes
//	segments/<id>/sa             the suffix array: one little-endian uint32
//	                             per byte of text, the start of each
//	                             suffix in sorted order
//	segments/<id>/offsets        the offset table: 24-byte records, sorted
//	                             by text position
//	manifests/<name>.json        an index built under a name (JSON)
//	tmp/                         segments being written
//
// A segment holds the text of whole contributions: a build's
// contributions not already in the store, sorted by CID bytes, go into
// segments in that order while the sum of Size+1 over their documents (a
// bound on the text: a document's pieces and separators are never longer)
// fits BuildOptions.MaxSegmentBytes (default and maximum math.MaxInt32,
// for int32 suffix array entries). A contribution larger than that alone
// is split by documents into parts, each a segment (a single document
// larger than a segment is [ErrDocTooLarge]). Within a segment documents
// are sorted by contribution then file index; each piece of text is
// followed by one 0x00.
//
// meta.json: format (1); id; contributions (sorted CIDs, those without
// text included); docs (contribution index, file, kind, size, in order;
// an offset record's doc indexes this list); part (for a part of a split
// contribution: group, the digest of the contribution and all its
// documents; starts, the index of each part's first document; index);
// text_bytes; records; sha256 of the text, sa and offsets files.
//
// An offset record maps text [TextStart, TextStart+TextLen) to source
// bytes [SrcOff, SrcOff+SrcLen) of document Doc, all little-endian:
//
//	0  TextStart uint32
//	4  TextLen   uint32
//	8  Doc       uint32
//	12 SrcLen    uint32
//	16 SrcOff    uint64
//
// TextLen == SrcLen means byte for byte (a run of a txt file or of a JSON
// string); otherwise the record is one escape sequence, which maps as a
// whole. Separators have no record. A text position is mapped by binary
// search of the memory-mapped table.
//
// The segment ID is the hex sha256 of "openledger-attribution-segment/1\n"
// then, per contribution in CID order, uvarint-prefixed CID bytes, the
// number of documents and per document uvarint file, uvarint size and
// uvarint-prefixed kind; for a part, "part", the group, the starts and the
// index. The same documents give the same ID in any store. The suffix
// array is sorted by the standard library's index/suffixarray (SA-IS) and
// decoded from its Index.Write stream (sa.go says how), checked for its
// length, entry count and range and a sample of neighbours' order (the
// tests check it is a suffix array in full). A segment is written
// in tmp/, every file fsynced, and renamed into segments/ (then the
// directory fsynced), so a crash never leaves part of one visible; files
// are opened read-only with mmap, never decoded into memory, and checked
// against the meta's sizes. [Store.Check] rehashes them. A segment whose
// meta does not check is [ErrCorrupt]: delete its directory and build
// again.
//
// A manifest: format, name, contributions (sorted CIDs), segments (id,
// contributions, text_bytes; sorted by id). It is written last, atomically.
//
// # Reuse and covers
//
// Segments are grouped into units: a segment of whole contributions, or
// all the parts of one split contribution (incomplete groups are ignored).
// Units are ordered by number of contributions (most first), then text
// bytes (most first), then segment ID (for parts, group and layout). [Store.Build] takes, in that order, every
// unit holding only contributions of the build, with the same documents,
// and disjoint from those taken, and builds segments only for the rest: a
// snapshot that adds contributions to an indexed one indexes only the new
// ones. [Store.Searcher] takes units the same way but holding only
// members, since a segment holding a non-member would count its
// occurrences; if that leaves a member uncovered, it tries each
// manifest's segments first (in name order), and failing that returns a
// [NotIndexedError]. A contribution's documents are assumed to be a
// function of its CID (kinds filtered the same way by every node).
//
// # Performance
//
// Building is bound by suffix sorting (SA-IS in the standard library,
// single-threaded): the whole build runs at 87–89 % of the sort's own
// speed, which falls as segments grow (about 14 MB/s for 4 MB, 7 for
// 128 MB, 4.8 for 1 GB here). A building segment needs about 6 bytes of
// memory per byte of text (text, int32 array, the sort's workspace);
// BuildOptions.Workers builds segments in parallel, each with its own. On
// disk an index takes 5 bytes per byte of text (1 text + 4 array; the
// offset table is a record per file, or per escape in JSON). A query
// costs, per segment, one binary search (log2 of the text's length steps,
// each a random read of the mapped array and text) per word start of the
// output, bar those skipped inside long matches, plus two per span to
// count it: a 1,000-byte output takes about half a millisecond over 1 GB
// in one segment with the index in the page cache. See docs/benchmarks.md.
package attribution
