//! Tables as Parquet files, for R (`arrow`), Python (`pandas`, `polars`, `pyarrow`) and
//! DuckDB: the same [`Column`]s and rows as the CSV, with types instead of text.
//!
//! Written with the low-level column writer of the `parquet` crate (no Arrow arrays, no C
//! codecs; pages are Snappy-compressed and dictionary-encoded where that pays). Rows come
//! in a page at a time, but a Parquet row group stores column after column; so each column
//! of the row group being built has its own writer that encodes into its own buffer as
//! rows arrive, and the buffers are spliced into the file when the group is full. Memory
//! is one row group's *encoded* columns, bounded by [`Limits`], whatever the table's size;
//! the file goes to `W` (flushed) at once with its magic number, then as each row group is
//! done, the footer last.
//!
//! Types, by [`Kind`]: text → `BYTE_ARRAY` (UTF-8 string), whole numbers → `INT64`, numbers →
//! `DOUBLE`, days → `INT32` (DATE), moments → `INT64` (TIMESTAMP, microseconds, UTC). Every
//! column is optional (an empty cell is null). Text is written as it is: the formula guard
//! of the CSV is for spreadsheets, which do not open Parquet. The file's key-value metadata
//! `hxl` maps each column to its HXL hashtag (JSON).

use crate::render::tables::{Cell, Column, Kind, Row};
use anyhow::{anyhow, Context};
use chrono::{Datelike, NaiveDate};
use parquet::basic::{
    Compression, LogicalType, Repetition, TimeUnit, TimestampType, Type as Physical,
};
use parquet::column::page::{CompressedPage, PageWriteSpec, PageWriter};
use parquet::column::writer::{get_column_writer, ColumnWriter};
use parquet::data_type::ByteArray;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescPtr, SchemaDescriptor, Type};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// When a row group is closed: after `rows` rows, or once `bytes` of cell content went in
/// (whichever comes first; checked after each batch of rows).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub rows: usize,
    pub bytes: usize,
}

impl Default for Limits {
    /// 100,000 rows or 32 MiB of content: a few MiB encoded.
    fn default() -> Self {
        Limits {
            rows: 100_000,
            bytes: 32 << 20,
        }
    }
}

/// The encoded pages of one column chunk, shared between its column writer (which writes
/// them) and the file writer (which splices them in when the row group is done).
type Buffer = Arc<Mutex<TrackedWrite<Vec<u8>>>>;

/// A page writer into a [`Buffer`].
struct Pages(Buffer);

fn poisoned() -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::General("a column buffer was poisoned".into())
}

impl PageWriter for Pages {
    fn write_page(&mut self, page: CompressedPage) -> parquet::errors::Result<PageWriteSpec> {
        let mut sink = self.0.lock().map_err(|_| poisoned())?;
        SerializedPageWriter::new(&mut sink).write_page(page)
    }

    fn close(&mut self) -> parquet::errors::Result<()> {
        self.0.lock().map_err(|_| poisoned())?.flush()?;
        Ok(())
    }
}

/// The row group being built.
struct Group {
    writers: Vec<ColumnWriter<'static>>,
    buffers: Vec<Buffer>,
    rows: usize,
    bytes: usize,
}

/// A Parquet file being written to `W`, a batch of rows at a time.
pub struct Parquet<W: Write + Send> {
    file: SerializedFileWriter<W>,
    kinds: Vec<Kind>,
    descrs: Vec<ColumnDescPtr>,
    props: WriterPropertiesPtr,
    limits: Limits,
    group: Option<Group>,
}

fn field(col: &Column) -> anyhow::Result<Arc<Type>> {
    let (physical, logical) = match col.kind {
        Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        Kind::Int => (Physical::INT64, None),
        Kind::Num => (Physical::DOUBLE, None),
        Kind::Date => (Physical::INT32, Some(LogicalType::Date)),
        Kind::Time => (
            Physical::INT64,
            Some(LogicalType::Timestamp(TimestampType {
                is_adjusted_to_u_t_c: true,
                unit: TimeUnit::MICROS,
            })),
        ),
    };
    let t = Type::primitive_type_builder(&col.name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()
        .with_context(|| format!("the Parquet type of column {:?}", col.name))?;
    Ok(Arc::new(t))
}

fn parquet_error(e: parquet::errors::ParquetError) -> anyhow::Error {
    anyhow!("writing the Parquet file: {e}")
}

impl<W: Write + Send> Parquet<W> {
    /// Starts a file of `columns` (the header goes out with the first row group).
    pub fn new(out: W, columns: &[Column], limits: Limits) -> anyhow::Result<Parquet<W>> {
        let fields = columns.iter().map(field).collect::<anyhow::Result<_>>()?;
        let schema = Arc::new(
            Type::group_type_builder("export")
                .with_fields(fields)
                .build()
                .map_err(parquet_error)?,
        );
        let hxl: serde_json::Map<String, serde_json::Value> = columns
            .iter()
            .map(|c| (c.name.clone(), c.hxl.clone().into()))
            .collect();
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_created_by(format!("clusterpulse {}", env!("CARGO_PKG_VERSION")))
                .set_key_value_metadata(Some(vec![KeyValue::new(
                    "hxl".to_string(),
                    serde_json::Value::Object(hxl).to_string(),
                )]))
                .build(),
        );
        let descrs = SchemaDescriptor::new(schema.clone()).columns().to_vec();
        let mut file =
            SerializedFileWriter::new(out, schema, props.clone()).map_err(parquet_error)?;
        // The magic number goes out at once, so a download starts before the first group.
        file.flush().context("writing the Parquet file")?;
        Ok(Parquet {
            file,
            kinds: columns.iter().map(|c| c.kind).collect(),
            descrs,
            props,
            limits,
            group: None,
        })
    }

    fn start_group(&self) -> Group {
        let buffers: Vec<Buffer> = self
            .descrs
            .iter()
            .map(|_| Arc::new(Mutex::new(TrackedWrite::new(Vec::new()))))
            .collect();
        let writers = self
            .descrs
            .iter()
            .zip(&buffers)
            .map(|(d, b)| {
                get_column_writer(d.clone(), self.props.clone(), Box::new(Pages(b.clone())))
            })
            .collect();
        Group {
            writers,
            buffers,
            rows: 0,
            bytes: 0,
        }
    }

    /// Appends `rows` (each as long as the columns).
    pub fn rows(&mut self, rows: &[Row]) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut group = match self.group.take() {
            Some(g) => g,
            None => self.start_group(),
        };
        let mut defs: Vec<i16> = Vec::with_capacity(rows.len());
        for (c, (writer, kind)) in group.writers.iter_mut().zip(&self.kinds).enumerate() {
            defs.clear();
            let cells = rows.iter().map(|r| r.get(c).unwrap_or(&Cell::Empty));
            group.bytes += write_column(writer, *kind, cells, &mut defs)
                .with_context(|| format!("column {}", self.descrs[c].name()))?;
        }
        group.rows += rows.len();
        if group.rows >= self.limits.rows || group.bytes >= self.limits.bytes {
            self.flush(group)
        } else {
            self.group = Some(group);
            Ok(())
        }
    }

    /// Closes the column writers of `group` and splices their chunks into the file.
    fn flush(&mut self, group: Group) -> anyhow::Result<()> {
        let mut closed = Vec::with_capacity(group.writers.len());
        for w in group.writers {
            closed.push(w.close().map_err(parquet_error)?);
        }
        let mut row_group = self.file.next_row_group().map_err(parquet_error)?;
        for (buffer, close) in group.buffers.into_iter().zip(closed) {
            let sink = Arc::try_unwrap(buffer)
                .map_err(|_| anyhow!("a column buffer is still in use"))?
                .into_inner()
                .map_err(|_| anyhow!("a column buffer was poisoned"))?;
            let bytes = bytes::Bytes::from(sink.into_inner().map_err(parquet_error)?);
            row_group
                .append_column(&bytes, close)
                .map_err(parquet_error)?;
        }
        row_group.close().map_err(parquet_error)?;
        // Each row group goes out when it is done, not when some buffer fills.
        self.file.flush().context("writing the Parquet file")?;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> anyhow::Result<W> {
        if let Some(group) = self.group.take() {
            self.flush(group)?;
        }
        self.file.into_inner().map_err(parquet_error)
    }
}

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

fn days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - EPOCH_DAYS_FROM_CE
}

/// A cell as text, as the CSV writes it (without the formula guard).
fn as_text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Empty => None,
        Cell::Text(s) => Some(s.clone()),
        Cell::Int(n) => Some(n.to_string()),
        Cell::Num(x) => Some(x.to_string()),
        Cell::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        Cell::Time(t) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
    }
}

/// Writes a column of fixed-size values: each cell's value from `value` (null when `None`);
/// the content's size in bytes.
fn batch<'a, T: parquet::data_type::DataType>(
    w: &mut parquet::column::writer::ColumnWriterImpl<'static, T>,
    cells: impl Iterator<Item = &'a Cell>,
    defs: &mut Vec<i16>,
    value: impl Fn(&Cell) -> Option<T::T>,
) -> anyhow::Result<usize> {
    let mut values: Vec<T::T> = Vec::new();
    for cell in cells {
        let v = value(cell);
        defs.push(i16::from(v.is_some()));
        values.extend(v);
    }
    w.write_batch(&values, Some(defs), None)
        .map_err(parquet_error)?;
    Ok(values.len() * std::mem::size_of::<T::T>())
}

/// Writes one column of a batch: the definition levels (1 present, 0 null) and the present
/// values. A cell of another kind than its column is converted where that is exact (a
/// whole number in a number column, any value in a text column, text that parses) and is
/// null otherwise. Returns the content's size in bytes.
fn write_column<'a>(
    writer: &mut ColumnWriter<'static>,
    kind: Kind,
    cells: impl Iterator<Item = &'a Cell>,
    defs: &mut Vec<i16>,
) -> anyhow::Result<usize> {
    fn put<T>(defs: &mut Vec<i16>, values: &mut Vec<T>, v: Option<T>) {
        defs.push(i16::from(v.is_some()));
        values.extend(v);
    }
    let written = match (writer, kind) {
        (ColumnWriter::ByteArrayColumnWriter(w), Kind::Text) => {
            let mut values: Vec<ByteArray> = Vec::new();
            let mut size = 0;
            for cell in cells {
                let v = match cell {
                    Cell::Text(s) => Some(ByteArray::from(s.as_str())),
                    other => as_text(other).map(|s| ByteArray::from(s.into_bytes())),
                };
                size += v.as_ref().map_or(0, |b| b.len());
                put(defs, &mut values, v);
            }
            w.write_batch(&values, Some(defs), None)
                .map_err(parquet_error)?;
            return Ok(size);
        }
        (ColumnWriter::Int64ColumnWriter(w), Kind::Int) => {
            batch(w, cells, defs, |cell| match cell {
                Cell::Int(n) => Some(*n),
                Cell::Num(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(*x as i64),
                Cell::Text(s) => s.trim().parse().ok(),
                _ => None,
            })?
        }
        (ColumnWriter::DoubleColumnWriter(w), Kind::Num) => {
            batch(w, cells, defs, |cell| match cell {
                Cell::Num(x) => Some(*x),
                Cell::Int(n) => Some(*n as f64),
                Cell::Text(s) => s.trim().parse().ok(),
                _ => None,
            })?
        }
        (ColumnWriter::Int32ColumnWriter(w), Kind::Date) => {
            batch(w, cells, defs, |cell| match cell {
                Cell::Date(d) => Some(days(*d)),
                Cell::Time(t) => Some(days(t.date())),
                Cell::Text(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .ok()
                    .map(days),
                _ => None,
            })?
        }
        (ColumnWriter::Int64ColumnWriter(w), Kind::Time) => {
            batch(w, cells, defs, |cell| match cell {
                Cell::Time(t) => Some(t.and_utc().timestamp_micros()),
                Cell::Date(d) => d
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc().timestamp_micros()),
                _ => None,
            })?
        }
        (_, kind) => return Err(anyhow!("no Parquet writer for a {kind:?} column")),
    };
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    #[test]
    fn row_groups_are_bounded_and_values_typed() {
        let cols = [
            Column::new("name", "#meta+name"),
            Column::new("n", "#reached").of(Kind::Int),
            Column::new("score", "#indicator+score").of(Kind::Num),
            Column::new("day", "#date").of(Kind::Date),
            Column::new("at", "#date+at").of(Kind::Time),
        ];
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let at = day.and_hms_opt(12, 30, 5).unwrap();
        let limits = Limits {
            rows: 4,
            bytes: 1 << 20,
        };
        let mut p = Parquet::new(Vec::new(), &cols, limits).unwrap();
        for batch in 0..5 {
            let rows: Vec<Row> = (0..3)
                .map(|i| {
                    vec![
                        Cell::text(format!("r{batch}-{i}")),
                        if i == 1 { Cell::Empty } else { Cell::Int(i) },
                        Cell::Num(0.5 + i as f64),
                        Cell::Date(day),
                        Cell::Time(at),
                    ]
                })
                .collect();
            p.rows(&rows).unwrap();
        }
        let bytes = bytes::Bytes::from(p.finish().unwrap());
        let reader = SerializedFileReader::new(bytes).unwrap();
        let meta = reader.metadata();
        // 15 rows in groups of at least 4 rows, checked after each batch of 3: 6, 6, 3.
        assert_eq!(meta.file_metadata().num_rows(), 15);
        let groups: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(groups, vec![6, 6, 3]);
        let kv = meta.file_metadata().key_value_metadata().unwrap();
        assert!(kv[0].value.as_deref().unwrap().contains("#indicator+score"));
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let first: Vec<(String, Field)> = rows[0]
            .get_column_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(first[0].1, Field::Str("r0-0".into()));
        assert_eq!(first[1].1, Field::Long(0));
        assert_eq!(first[2].1, Field::Double(0.5));
        assert_eq!(first[3].1, Field::Date(days(day)));
        assert_eq!(
            first[4].1,
            Field::TimestampMicros(at.and_utc().timestamp_micros())
        );
        assert_eq!(rows[1].get_column_iter().nth(1).unwrap().1, &Field::Null);
        assert_eq!(rows.len(), 15);
    }
}
