"""Reading and writing datasets as streams of Arrow record batches: Parquet, CSV and JSON lines.

The format is the file's extension (.parquet/.pq, .csv, .jsonl/.ndjson). Readers stream, so memory
is bounded by the batch size; CSV columns are read as text, so a CSV written back is the CSV read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from crawler_client.errors import KotowariError

__all__ = ["BATCH_ROWS", "DatasetError", "Reader", "Writer", "dataset_format"]

BATCH_ROWS: Final = 65_536
_FORMATS: Final = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


class DatasetError(KotowariError):
    """A dataset file that cannot be read or written as its extension says."""


def dataset_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise DatasetError(
            f"{path}: unknown format {suffix or '(no extension)'!r}; use .parquet, .csv or .jsonl"
        )
    return _FORMATS[suffix]


class Reader:
    """Record batches of a dataset file, with its row count when the format records it."""

    def __init__(self, path: str | Path, *, batch_rows: int = BATCH_ROWS) -> None:
        self.path = Path(path)
        self.format = dataset_format(path)
        self.batch_rows = batch_rows
        self.total_rows: int | None = None
        try:
            if self.format == "parquet":
                self._parquet = pq.ParquetFile(self.path)
                self.total_rows = self._parquet.metadata.num_rows
                self.schema = self._parquet.schema_arrow
            elif self.format == "csv":
                with open(self.path, newline="", encoding="utf-8") as handle:
                    header = next(csv.reader(handle), [])
                self.schema = pa.schema([(name, pa.string()) for name in header])
            else:
                self.schema = None
        except (OSError, pa.ArrowException, UnicodeDecodeError, csv.Error) as exc:
            raise DatasetError(f"cannot read {self.path}: {exc}") from None

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            if self.format == "parquet":
                yield from self._parquet.iter_batches(batch_size=self.batch_rows)
            elif self.format == "csv":
                assert self.schema is not None
                reader = pa_csv.open_csv(
                    self.path,
                    read_options=pa_csv.ReadOptions(block_size=1 << 22),
                    convert_options=pa_csv.ConvertOptions(
                        column_types={name: pa.string() for name in self.schema.names},
                        strings_can_be_null=False,
                    ),
                )
                for batch in reader:
                    yield from _slices(batch, self.batch_rows)
            else:
                reader = pa_json.open_json(self.path, read_options=pa_json.ReadOptions(block_size=1 << 22))
                for batch in reader:
                    yield from _slices(batch, self.batch_rows)
        except (OSError, pa.ArrowException) as exc:
            raise DatasetError(f"cannot read {self.path}: {exc}") from None


def _slices(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


class Writer:
    """Writes record batches to a dataset file in the format its extension names."""

    def __init__(self, path: str | Path, fmt: str | None = None) -> None:
        self.path = Path(path)
        self.format = fmt or dataset_format(path)
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pa_csv.CSVWriter | None = None
        self._text: IO[str] | None = None
        self._schema: pa.Schema | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        try:
            if self._schema is None:
                self._open(batch.schema)
            elif batch.schema != self._schema:
                batch = pa.RecordBatch.from_arrays(
                    [
                        batch.column(name).cast(field.type)
                        for name, field in zip(self._schema.names, self._schema, strict=True)
                    ],
                    schema=self._schema,
                )
            if self._parquet is not None:
                self._parquet.write_batch(batch)
            elif self._csv is not None:
                self._csv.write_batch(batch)
            elif self._text is not None:
                for row in batch.to_pylist():
                    self._text.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
        except (OSError, pa.ArrowException) as exc:
            raise DatasetError(f"cannot write {self.path}: {exc}") from None

    def _open(self, schema: pa.Schema) -> None:
        self._schema = schema
        if self.format == "parquet":
            self._parquet = pq.ParquetWriter(self.path, schema)
        elif self.format == "csv":
            self._csv = pa_csv.CSVWriter(self.path, schema)
        else:
            self._text = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def close(self, schema: pa.Schema | None = None) -> None:
        """Finish the file (an empty one with `schema` when no batch was written)."""
        if self._schema is None and schema is not None:
            self._open(schema)
        for handle in (self._parquet, self._csv, self._text):
            if handle is not None:
                handle.close()
        if self._schema is None and self.format == "jsonl":
            self.path.write_text("")


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
