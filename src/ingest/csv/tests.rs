//! Unit tests of the CSV reader: the tokenizer on bytes (fed whole and one byte at a time),
//! batches over files, and a differential test against Polars' CSV reader with the settings
//! mlcost used before this reader (the semantics it must keep).

use std::io::Write;

use super::*;

/// A reader that hands out at most `n` bytes per read, to put chunk boundaries everywhere.
struct Trickle {
    bytes: Vec<u8>,
    pos: usize,
    n: usize,
}

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let k = self.n.min(out.len()).min(self.bytes.len() - self.pos);
        out[..k].copy_from_slice(&self.bytes[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

#[derive(Debug, PartialEq)]
struct Rec {
    fields: Vec<Option<String>>,
    cut: bool,
    blank: bool,
}

fn tokenize_with(bytes: &[u8], n: usize) -> Vec<Rec> {
    let input = Trickle {
        bytes: bytes.to_vec(),
        pos: 0,
        n,
    };
    let mut t = Tokenizer::new(Path::new("t.csv"), FileKind::Csv, Box::new(input));
    let mut out = Vec::new();
    while let Some(r) = t.next_record().unwrap() {
        out.push(Rec {
            fields: (0..r.len())
                .map(|i| r.field(i).map(|b| String::from_utf8_lossy(b).into_owned()))
                .collect(),
            cut: r.cut,
            blank: r.blank,
        });
    }
    out
}

/// Tokenizes `bytes` whole and one byte at a time; both must agree.
fn tokenize(bytes: &[u8]) -> Vec<Rec> {
    let whole = tokenize_with(bytes, usize::MAX);
    for n in [1, 2, 3, 7] {
        assert_eq!(tokenize_with(bytes, n), whole, "{n} bytes per read");
    }
    whole
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn fields(bytes: &[u8]) -> Vec<Vec<Option<String>>> {
    tokenize(bytes).into_iter().map(|r| r.fields).collect()
}

#[test]
fn rfc4180_quoting() {
    assert_eq!(
        fields(b"a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n"),
        vec![
            vec![s("a"), s("b"), s("c")],
            vec![s("x,y"), s("say \"hi\""), s("two\nlines")]
        ]
    );
}

#[test]
fn crlf_reads_like_lf_and_a_lone_cr_stays_text() {
    let lf = fields(b"a,b\n1,\"x\"\n,\n");
    assert_eq!(fields(b"a,b\r\n1,\"x\"\r\n,\r\n"), lf);
    assert_eq!(lf[2], vec![None, None]);
    // Polars dropped a `\r` ending any unquoted field and kept one inside quotes or text
    assert_eq!(
        fields(b"a,b\nx\ry,z\r,\n\"q\r\",\n"),
        vec![
            vec![s("a"), s("b")],
            vec![s("x\ry"), s("z"), None],
            vec![s("q\r"), None]
        ]
    );
}

#[test]
fn bom_is_not_part_of_the_first_name() {
    assert_eq!(fields(b"\xef\xbb\xbfa,b\n1,2\n")[0], vec![s("a"), s("b")]);
    // only at the very start
    assert_eq!(fields(b"a,b\n\xef\xbb\xbf1,2\n")[1][0], s("\u{feff}1"));
}

#[test]
fn null_empty_and_quoted_empty() {
    assert_eq!(
        fields(b"a,b,c,d,e\nNULL,\"NULL\",,\"\",null\n")[1],
        vec![None, None, None, s(""), s("null")]
    );
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    // 0xc3 0xa9 is `é` only when the two bytes are in one field
    std::fs::write(&path, b"a,b,c\ni-\xff\xfe,\xc3,\xa9\n\xc3\xa9,ok,\n").unwrap();
    let (df, bad) = read_all(&path, FileKind::Csv, None, 1000);
    assert!(bad.is_empty());
    assert_eq!(column(&df, "a"), vec![s("i-\u{fffd}\u{fffd}"), s("é")]);
    assert_eq!(column(&df, "b"), vec![s("\u{fffd}"), s("ok")]);
    assert_eq!(column(&df, "c"), vec![s("\u{fffd}"), None]);
}

#[test]
fn blank_lines_are_rows_of_nulls_after_the_header_and_skipped_before_it() {
    let recs = tokenize(b"\n\na,b\n1,2\n\n3,4\r\n\r\n5,6\n\n");
    let blank: Vec<bool> = recs.iter().map(|r| r.blank).collect();
    assert_eq!(blank, [false, false, true, false, true, false, true]);
    assert_eq!(recs[0].fields, vec![s("a"), s("b")]);
    assert_eq!(recs[3].fields, vec![s("3"), s("4")]);
}

#[test]
fn cut_last_rows_are_marked() {
    let recs = tokenize(b"a,b\n1,2\n3,4");
    assert_eq!(
        recs.iter().map(|r| r.cut).collect::<Vec<_>>(),
        [false, false, true]
    );
    assert_eq!(recs[2].fields, vec![s("3"), s("4")]);
    // inside an open quote, even with a line break at the end
    let recs = tokenize(b"a,b\n1,\"2\n");
    assert!(recs[1].cut);
    assert_eq!(recs[1].fields, vec![s("1"), s("2\n")]);
    // a delimiter as the very last byte
    let recs = tokenize(b"a,b\n1,");
    assert!(recs[1].cut);
    assert_eq!(recs[1].fields.len(), 2);
    // a complete file is not cut, nor is a header without a line break
    assert!(tokenize(b"a,b\n1,2\n").iter().all(|r| !r.cut));
    assert_eq!(tokenize(b"a,b").len(), 1);
}

#[test]
fn a_row_longer_than_the_input_buffer() {
    // 2.5 MiB fields: the 1 MiB buffer grows, the record is parsed again from its start
    let big = "x\"y,".repeat(650_000);
    let quoted = big.replace('"', "\"\"");
    let text = format!("a,b\n\"{quoted}\",1\n2,\"{quoted}\"\n");
    for n in [usize::MAX, 100_000] {
        let recs = tokenize_with(text.as_bytes(), n);
        assert_eq!(recs[1].fields, vec![s(&big), s("1")]);
        assert_eq!(recs[2].fields, vec![s("2"), s(&big)]);
    }
}

#[test]
fn duplicate_header_names_are_renamed_as_polars_did() {
    let p = Path::new("x.csv");
    let names = |v: &[&str]| dedup_names(p, v.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        names(&["a", "a", "", "a", ""]).unwrap(),
        ["a", "a_duplicated_0", "", "a_duplicated_1", "_duplicated_0"]
    );
    let err = names(&["a_duplicated_0", "a", "a"]).unwrap_err();
    assert!(err.to_string().contains("x.csv"), "{err}");
}

fn read_all(
    path: &Path,
    kind: FileKind,
    columns: Option<&[&str]>,
    batch_rows: usize,
) -> (DataFrame, Vec<BadRow>) {
    let header = read_header(path, kind).unwrap();
    let columns: Vec<(usize, String)> = match columns {
        None => header.iter().cloned().enumerate().collect(),
        Some(c) => c
            .iter()
            .map(|c| (header.iter().position(|h| h == c).unwrap(), c.to_string()))
            .collect(),
    };
    let p = Projection {
        columns,
        row_number: Some("row".into()),
        batch_rows,
        batch_bytes: BATCH_BYTES,
        warned: Default::default(),
    };
    let mut df: Option<DataFrame> = None;
    let mut bad = Vec::new();
    for b in batches(path, kind, header.len(), p).unwrap() {
        let b = b.unwrap();
        assert!(b.frame.height() + b.bad.len() <= batch_rows);
        bad.extend(b.bad);
        df = Some(match df {
            None => b.frame,
            Some(mut d) => {
                d.vstack_mut(&b.frame).unwrap();
                d
            }
        });
    }
    (df.unwrap_or_default(), bad)
}

fn column(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    crate::ingest::text_values(df.column(name).unwrap()).unwrap()
}

#[test]
fn ragged_rows_are_handed_back_with_their_row_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    std::fs::write(&path, "a,b,c\n1,2,3\n4,5\n6,7,8,9\n\n10,11,12\n13,14,").unwrap();
    for batch_rows in [1, 2, 1000] {
        let (df, bad) = read_all(&path, FileKind::Csv, Some(&["c", "a"]), batch_rows);
        assert_eq!(df.get_column_names(), ["row", "c", "a"]);
        assert_eq!(column(&df, "row"), vec![s("1"), s("4"), s("5")]);
        assert_eq!(column(&df, "a"), vec![s("1"), None, s("10")]);
        assert_eq!(column(&df, "c"), vec![s("3"), None, s("12")]);
        assert_eq!(
            bad,
            vec![
                BadRow {
                    row: 2,
                    problem: RowProblem::WrongFieldCount {
                        fields: 2,
                        header: 3
                    }
                },
                BadRow {
                    row: 3,
                    problem: RowProblem::WrongFieldCount {
                        fields: 4,
                        header: 3
                    }
                },
                BadRow {
                    row: 6,
                    problem: RowProblem::EndsInsideRow
                },
            ]
        );
    }
    assert_eq!(bad_value(&path), "2 fields, header has 3");
}

fn bad_value(path: &Path) -> String {
    let (_, bad) = read_all(path, FileKind::Csv, None, 10);
    bad[0].problem.value()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_is_read_as_a_stream_and_every_member_counts() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("x.csv");
    let text = "a,b\n1,\"x\ny\"\n2,3\n";
    std::fs::write(&plain, text).unwrap();
    let one = dir.path().join("one.csv.gz");
    std::fs::write(&one, gz(text.as_bytes())).unwrap();
    // two gzip members, split inside a quoted field (what `cat a.gz b.gz` gives)
    let two = dir.path().join("two.csv.gz");
    let (a, b) = text.split_at(8);
    std::fs::write(&two, [gz(a.as_bytes()), gz(b.as_bytes())].concat()).unwrap();
    let (want, _) = read_all(&plain, FileKind::Csv, None, 1);
    assert_eq!(want.height(), 2);
    for p in [&one, &two] {
        let (got, bad) = read_all(p, FileKind::CsvGz, None, 1);
        assert!(bad.is_empty());
        assert!(got.equals_missing(&want), "{}", p.display());
    }
    // a cut gzip stream is an error naming the file
    let cut = dir.path().join("cut.csv.gz");
    let bytes = gz(text.repeat(100).as_bytes());
    std::fs::write(&cut, &bytes[..bytes.len() - 12]).unwrap();
    let header = read_header(&cut, FileKind::CsvGz).unwrap();
    let p = Projection {
        columns: vec![(0, "a".into())],
        row_number: None,
        batch_rows: 10,
        batch_bytes: BATCH_BYTES,
        warned: Default::default(),
    };
    let err = batches(&cut, FileKind::CsvGz, header.len(), p)
        .unwrap()
        .find_map(|b| b.err())
        .expect("an error");
    assert!(err.to_string().contains("cut.csv.gz"), "{err}");
    assert!(format!("{err:?}").contains("decompress"), "{err:?}");
}

mod against_csv_core {
    //! The tokenizer must split any bytes into the records and fields csv-core gives (with a
    //! `\n` terminator): the same fields, the same cut last record. Blank lines, which
    //! csv-core skips and mlcost reads as rows of nulls, are left out of the comparison; `\r`
    //! (dropped by mlcost at the end of a field) is not in the alphabet.
    use proptest::prelude::*;

    use super::*;

    type Recs = Vec<(Vec<Vec<u8>>, bool)>;

    fn csv_core_records(bytes: &[u8]) -> Recs {
        let mut r = csv_core::ReaderBuilder::new()
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build();
        let mut out = vec![0u8; bytes.len() + 8];
        let mut ends = vec![0usize; bytes.len() + 8];
        let mut input = bytes;
        let mut recs = Vec::new();
        // output written so far, and where the current record's output starts
        let (mut o, mut e, mut rec_o, mut rec_e) = (0, 0, 0, 0);
        loop {
            let at_eof = input.is_empty();
            let (res, nin, nout, nend) = r.read_record(input, &mut out[o..], &mut ends[e..]);
            input = &input[nin..];
            o += nout;
            e += nend;
            match res {
                csv_core::ReadRecordResult::Record => {
                    // field ends are relative to the record's first output byte
                    let text = &out[rec_o..o];
                    let mut fields = Vec::new();
                    let mut start = 0;
                    for end in &ends[rec_e..e] {
                        fields.push(text[start..*end].to_vec());
                        start = *end;
                    }
                    recs.push((fields, at_eof));
                    (rec_o, rec_e) = (o, e);
                }
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::End => return recs,
                other => panic!("{other:?}"),
            }
        }
    }

    /// Our records, with one difference to csv-core made up: when the input ends with a
    /// delimiter, csv-core's `read_record` leaves out the empty field after it (its
    /// `read_field`, Polars and this tokenizer keep it). Such a record is cut, so it is
    /// quarantined whatever its fields.
    fn ours_as_csv_core(bytes: &[u8], n: usize, want: &Recs) -> Recs {
        let mut recs = ours(bytes, n);
        if let (Some(last), Some(theirs)) = (recs.last_mut(), want.last()) {
            if last.1
                && bytes.ends_with(b",")
                && last.0.len() == theirs.0.len() + 1
                && last.0.last().is_some_and(|f| f.is_empty())
            {
                last.0.pop();
            }
        }
        recs
    }

    fn ours(bytes: &[u8], n: usize) -> Recs {
        let input = Trickle {
            bytes: bytes.to_vec(),
            pos: 0,
            n,
        };
        let mut t = Tokenizer::new(Path::new("t.csv"), FileKind::Csv, Box::new(input));
        let mut recs = Vec::new();
        while let Some(r) = t.next_record().unwrap() {
            if r.blank {
                continue;
            }
            let fields = (0..r.len()).map(|i| r.raw_field(i).to_vec()).collect();
            recs.push((fields, r.cut));
        }
        recs
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn splits_like_csv_core(bytes in proptest::collection::vec(proptest::sample::select(b"ab,\"\n".to_vec()), 0..80)) {
            let want = csv_core_records(&bytes);
            prop_assert_eq!(ours_as_csv_core(&bytes, usize::MAX, &want), want.clone(), "{:?}", String::from_utf8_lossy(&bytes));
            prop_assert_eq!(ours_as_csv_core(&bytes, 3, &want), want, "{:?}", String::from_utf8_lossy(&bytes));
        }
    }
}

mod against_polars {
    //! The reader must read well-formed files (every row complete, the last one ended by a
    //! line break) exactly as `LazyCsvReader` did with mlcost's old settings.
    use proptest::prelude::*;

    use super::*;

    fn polars(path: &Path) -> DataFrame {
        LazyCsvReader::new(PlRefPath::new(path.to_str().unwrap()))
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_null_values(Some(NullValues::AllColumnsSingle("NULL".into())))
            .with_missing_is_null(true)
            .with_encoding(CsvEncoding::LossyUtf8)
            .with_row_index(Some(RowIndex {
                name: "row".into(),
                offset: 1,
            }))
            .finish()
            .unwrap()
            .collect()
            .unwrap()
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("NULL".to_string()),
            Just("\"\"".to_string()),
            Just("\"NULL\"".to_string()),
            "[a-z0-9 .\\-]{1,6}",
            "[a-z, \n\r\"é]{0,6}".prop_map(|v| format!("\"{}\"", v.replace('"', "\"\""))),
            "[a-z]{0,2}\r[a-z]{0,2}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn reads_like_polars(
            width in 1usize..5,
            rows in proptest::collection::vec(proptest::collection::vec(field(), 5), 0..12),
            blank in proptest::collection::vec(any::<bool>(), 12),
            crlf in any::<bool>(),
            bom in any::<bool>(),
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            let names: Vec<String> = (0..width).map(|i| format!("c{}", i % 3)).collect();
            text.push_str(&names.join(","));
            text.push_str(eol);
            for (i, r) in rows.iter().enumerate() {
                if blank[i] {
                    text.push_str(eol);
                }
                text.push_str(&r[..width].join(","));
                text.push_str(eol);
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.csv");
            std::fs::write(&path, &text).unwrap();
            let want = polars(&path);
            let (got, bad) = read_all(&path, FileKind::Csv, None, 3);
            prop_assert!(bad.is_empty(), "{:?}", bad);
            if want.height() == 0 {
                prop_assert_eq!(got.height(), 0);
                return Ok(());
            }
            prop_assert_eq!(got.get_column_names(), want.get_column_names());
            for name in want.get_column_names() {
                prop_assert_eq!(column(&got, name), column(&want, name), "{} in {:?}", name, text);
            }
        }
    }
}

#[test]
fn a_reader_thread_that_dies_is_an_error_not_the_end_of_the_file() {
    let (tx, rx) = mpsc::sync_channel(1);
    let worker = std::thread::spawn(move || {
        let _ = tx.send(Ok(Batch {
            frame: DataFrame::empty(),
            bad: Vec::new(),
        }));
        panic!("a bug in the reader");
    });
    let mut b = Batches {
        path: "x.csv".into(),
        rx: Some(rx),
        worker: Some(worker),
    };
    assert!(b.next().unwrap().is_ok());
    let Some(Err(err)) = b.next() else {
        panic!("expected an error")
    };
    assert!(err.to_string().contains("x.csv"), "{err}");
    assert!(b.next().is_none());
}

mod any_bytes {
    //! Whatever the bytes: no panic, and every data record is either in a frame or a bad row
    //! (nothing lost, nothing counted twice), numbered 1, 2, 3... in file order.
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn every_record_is_a_row_or_a_bad_row(
            bytes in proptest::collection::vec(prop_oneof![
                4 => proptest::sample::select(b"a,\"\n\r".to_vec()),
                1 => any::<u8>(),
            ], 0..300),
            gzip in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let (path, kind) = match gzip {
                true => (dir.path().join("x.csv.gz"), FileKind::CsvGz),
                false => (dir.path().join("x.csv"), FileKind::Csv),
            };
            std::fs::write(&path, if gzip { gz(&bytes) } else { bytes.clone() }).unwrap();
            let records = tokenize_with(&bytes, usize::MAX).len();
            let header = read_header(&path, kind).unwrap();
            if header.is_empty() {
                prop_assert_eq!(records, 0);
                return Ok(());
            }
            let columns: Vec<(usize, String)> = header.iter().cloned().enumerate().collect();
            let p = Projection {
                columns,
                row_number: Some("row".into()),
                batch_rows: 2,
                batch_bytes: BATCH_BYTES,
                warned: Default::default(),
            };
            let mut numbers: Vec<u64> = Vec::new();
            for b in batches(&path, kind, header.len(), p).unwrap() {
                let b = b.unwrap();
                let rows = column(&b.frame, "row");
                numbers.extend(rows.iter().map(|r| r.as_deref().unwrap().parse::<u64>().unwrap()));
                numbers.extend(b.bad.iter().map(|r| r.row));
                prop_assert!(b.bad.iter().all(|r| r.problem != RowProblem::EndsInsideRow || r.row as usize == records - 1));
            }
            numbers.sort_unstable();
            let want: Vec<u64> = (1..records as u64).collect();
            prop_assert_eq!(numbers, want);
        }

        #[test]
        fn keeping_some_fields_changes_nothing_else(
            bytes in proptest::collection::vec(proptest::sample::select(b"ab,\"\n\r".to_vec()), 0..120),
        ) {
            let all = tokenize_with(&bytes, usize::MAX);
            let input = Trickle { bytes: bytes.clone(), pos: 0, n: 5 };
            let mut t = Tokenizer::new(Path::new("t.csv"), FileKind::Csv, Box::new(input));
            t.keep_only(&[1, 3]);
            let mut i = 0;
            while let Some(r) = t.next_record().unwrap() {
                let want = &all[i];
                prop_assert_eq!((r.len(), r.cut, r.blank), (want.fields.len(), want.cut, want.blank));
                for f in [1, 3] {
                    let got = r.field(f).map(|b| String::from_utf8_lossy(b).into_owned());
                    prop_assert_eq!(&got, &want.fields.get(f).cloned().flatten());
                }
                i += 1;
            }
            prop_assert_eq!(i, all.len());
        }
    }
}
