// Package backup writes and reads Parley's backup archives: one consistent
// snapshot of the database and every file it refers to, in a tar stream
// (docs/operations.md, "Backup and restore").
//
// The archive holds, in this order:
//
//	parley-backup.json         Header: format, Parley's version, dialect, schema version
//	db/<table>/<n>.jsonl       the rows of each table, in chunks of about 4 MiB, tables
//	                           in an order that satisfies their foreign keys; a chunk's
//	                           first line is the JSON array of its column names, each
//	                           further line one row as a JSON array of values
//	blobs/<key>                each file the database refers to, as stored
//	                           (PAX record PARLEY.content_type: its content type)
//	manifest.json              Manifest: row counts, the last id of each table, the
//	                           files missing from storage, and the size and SHA-256
//	                           of every entry above
//
// Values are JSON null, numbers (integers exact), strings, booleans, and
// {"$bytes": base64} for binary values or {"$str": base64} for text that
// is not UTF-8. Rows are portable: a backup of SQLite restores into
// PostgreSQL and back.
package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
)

// The archive's format, and the names of its fixed entries.
const (
	FormatName    = "parley-backup"
	FormatVersion = 1

	headerName   = "parley-backup.json"
	manifestName = "manifest.json"
	tablePrefix  = "db/"
	blobPrefix   = "blobs/"

	// contentTypeRecord carries a file's content type in its tar header.
	contentTypeRecord = "PARLEY.content_type"
)

// chunkSize bounds the rows held in memory: a table is written in entries
// of about this size (a tar entry's size comes before its bytes).
const chunkSize = 4 << 20

// loadBytes bounds the rows of one INSERT while restoring.
const loadBytes = 1 << 20

// Header opens an archive: what a restore must know before it loads rows.
type Header struct {
	Format        string    `json:"format"` // FormatName
	FormatVersion int       `json:"format_version"`
	Parley        string    `json:"parley_version"` // the version that wrote it
	Dialect       string    `json:"dialect"`        // sqlite or postgres: where the rows came from
	SchemaVersion int64     `json:"schema_version"` // the newest migration applied
	CreatedAt     time.Time `json:"created_at"`
}

// Manifest closes an archive: what a restore checks before it commits.
type Manifest struct {
	Header
	Tables []Table `json:"tables"`
	// Sequences holds each table's last id given out; a restore continues
	// after it.
	Sequences map[string]int64 `json:"sequences"`
	Files     int              `json:"files"`      // files in the archive
	FileBytes int64            `json:"file_bytes"` // their bytes
	// Missing lists the files the database refers to that storage did not
	// have when they were copied: an upload still under way when the
	// snapshot was taken (not yet in any message), or a file deleted
	// since.
	Missing []string `json:"missing_files,omitempty"`
	Entries []Entry  `json:"entries"`
}

// Table is a table of the snapshot.
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    int64    `json:"rows"`
}

// Entry is an entry of the archive before the manifest.
type Entry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Rows counts the rows of every table.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// Version is this binary's version for the header: the module's version
// and, where the build recorded it, the commit.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return v
}

// Write writes a backup of the database named by dsn (sqlstore.Open's
// form) and of the files in blobs that it refers to. It reads the database
// in one snapshot, beside running servers, and copies the files after it:
// files are never changed once stored, so each is as the snapshot knew it
// unless it was deleted since (Manifest.Missing). Memory use does not grow
// with the database or the files.
func Write(ctx context.Context, w io.Writer, dsn string, blobs parley.Blobs) (*Manifest, error) {
	snap, err := sqlstore.OpenSnapshot(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	now := time.Now().UTC()
	m := &Manifest{Header: Header{Format: FormatName, FormatVersion: FormatVersion, Parley: Version(),
		Dialect: snap.Dialect(), SchemaVersion: snap.SchemaVersion(), CreatedAt: now}}
	aw := &archiveWriter{tw: tar.NewWriter(w), now: now, m: m}
	if err := aw.json(headerName, m.Header); err != nil {
		return nil, err
	}
	var keys []string
	for _, t := range snap.Tables() {
		n, k, err := aw.table(ctx, snap, t)
		if err != nil {
			return nil, err
		}
		m.Tables = append(m.Tables, Table{Name: t.Name, Columns: t.Columns, Rows: n})
		keys = append(keys, k...)
	}
	if m.Sequences, err = snap.Sequences(ctx); err != nil {
		return nil, err
	}
	// The snapshot ends here: a long read holds back SQLite's checkpoints
	// and PostgreSQL's vacuum, and the files need no transaction.
	snap.Close()
	for _, key := range keys {
		if err := aw.blob(ctx, blobs, key); err != nil {
			return nil, err
		}
	}
	if err := aw.json(manifestName, m); err != nil {
		return nil, err
	}
	return m, aw.tw.Close()
}

type archiveWriter struct {
	tw  *tar.Writer
	now time.Time
	m   *Manifest
}

// entry writes one entry of size bytes from r and records its checksum.
func (a *archiveWriter) entry(name string, r io.Reader, size int64, pax map[string]string) error {
	if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600,
		ModTime: a.now, PAXRecords: pax}); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(a.tw, h), r)
	if err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("backup: %s: %d bytes, expected %d", name, n, size)
	}
	if name != manifestName {
		a.m.Entries = append(a.m.Entries, Entry{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	return nil
}

func (a *archiveWriter) json(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	return a.entry(name, bytes.NewReader(data), int64(len(data)), nil)
}

// table writes the rows of t in chunks and returns how many there were
// and, for the files table, the keys of the files its rows refer to.
func (a *archiveWriter) table(ctx context.Context, snap *sqlstore.Snapshot, t sqlstore.Table) (int64, []string, error) {
	head, err := json.Marshal(t.Columns)
	if err != nil {
		return 0, nil, err
	}
	head = append(head, '\n')
	var buf bytes.Buffer
	chunks := 0
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		chunks++
		name := fmt.Sprintf("%s%s/%06d.jsonl", tablePrefix, t.Name, chunks)
		err := a.entry(name, io.MultiReader(bytes.NewReader(head), &buf), int64(len(head)+buf.Len()), nil)
		buf.Reset()
		return err
	}
	// Files are stored under keys made from their rows (parley.File).
	idCol, thumbCol := -1, -1
	if t.Name == "files" {
		idCol, thumbCol = slices.Index(t.Columns, "id"), slices.Index(t.Columns, "has_thumb")
	}
	var keys []string
	var rows int64
	out := make([]any, len(t.Columns))
	err = snap.Rows(ctx, t, func(row []any) error {
		for i, v := range row {
			var err error
			if out[i], err = encodeValue(v); err != nil {
				return fmt.Errorf("backup: %s.%s: %w", t.Name, t.Columns[i], err)
			}
		}
		line, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("backup: %s: %w", t.Name, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		rows++
		if idCol >= 0 {
			if id, ok := row[idCol].(int64); ok {
				f := parley.File{ID: id}
				keys = append(keys, f.BlobKey())
				if thumbCol >= 0 && truthy(row[thumbCol]) {
					keys = append(keys, f.ThumbKey())
				}
			}
		}
		if buf.Len() >= chunkSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return rows, keys, flush()
}

// blob copies the file at key into the archive, streaming.
func (a *archiveWriter) blob(ctx context.Context, blobs parley.Blobs, key string) error {
	rc, info, err := blobs.Get(ctx, key)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		a.m.Missing = append(a.m.Missing, key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: file %s: %w", key, err)
	}
	defer rc.Close()
	if err := a.entry(blobPrefix+key, rc, info.Size, map[string]string{contentTypeRecord: info.ContentType}); err != nil {
		return err
	}
	a.m.Files++
	a.m.FileBytes += info.Size
	return nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	}
	return false
}

// encodeValue turns a driver value into its JSON form.
func encodeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, int64, float64, bool:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case string:
		if !utf8.ValidString(x) {
			// encoding/json would replace the invalid bytes.
			return map[string]string{"$str": base64.StdEncoding.EncodeToString([]byte(x))}, nil
		}
		return x, nil
	case []byte:
		return map[string]string{"$bytes": base64.StdEncoding.EncodeToString(x)}, nil
	}
	return nil, fmt.Errorf("a value of type %T cannot be backed up", v)
}

// decodeValue is the inverse of encodeValue, for values decoded with
// UseNumber.
func decodeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, nil
		}
		return strconv.ParseFloat(string(x), 64)
	case map[string]any:
		for k, enc := range x {
			s, ok := enc.(string)
			if len(x) != 1 || !ok {
				break
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, err
			}
			switch k {
			case "$bytes":
				return b, nil
			case "$str":
				return string(b), nil
			}
		}
	}
	return nil, fmt.Errorf("unexpected value %v", v)
}

// RestoreOptions are what Restore needs besides the archive.
type RestoreOptions struct {
	// DSN names the database to fill (sqlstore.Open's form). It must be
	// empty: a new SQLite file or PostgreSQL schema, or one only migrated.
	DSN string
	// Blobs opens the file storage to put the files in. It is called only
	// once the database is known to be empty.
	Blobs func() (parley.Blobs, error)
}

// ErrNotEmpty is returned (wrapped) when the database to restore into
// holds rows; nothing is changed then.
var ErrNotEmpty = errors.New("restore needs an empty database")

// Restore fills an empty database and the file storage from an archive
// written by Write. It migrates the database to the archive's schema
// version, loads every row in one transaction and puts every file, and
// commits only once the manifest at the end confirms that every entry
// arrived whole: a damaged or cut archive leaves the database empty (files
// already put remain, under keys no row refers to). Ids continue after
// the restored ones. The server's next start applies newer migrations.
func Restore(ctx context.Context, r io.Reader, opt RestoreOptions) (*Manifest, error) {
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != headerName {
		return nil, fmt.Errorf("backup: not a Parley backup (it does not begin with %s)", headerName)
	}
	var head Header
	hh := newHashed(tr)
	if err := json.NewDecoder(io.LimitReader(hh, 1<<20)).Decode(&head); err != nil {
		return nil, fmt.Errorf("backup: reading %s: %w", headerName, err)
	}
	if _, err := io.Copy(io.Discard, hh); err != nil {
		return nil, fmt.Errorf("backup: reading %s: %w", headerName, err)
	}
	if head.Format != FormatName {
		return nil, fmt.Errorf("backup: not a Parley backup (format %q)", head.Format)
	}
	if head.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("backup: the archive's format version %d is not %d: restore it with the Parley that wrote it (%s)",
			head.FormatVersion, FormatVersion, head.Parley)
	}
	l, err := sqlstore.OpenLoader(ctx, opt.DSN)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	latest, err := l.LatestSchemaVersion()
	if err != nil {
		return nil, err
	}
	if head.SchemaVersion > latest {
		return nil, fmt.Errorf("backup: the archive's schema version %d is newer than this Parley's (%d): restore it with Parley %s or newer",
			head.SchemaVersion, latest, head.Parley)
	}
	if err := l.Empty(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEmpty, err)
	}
	if v, err := l.SchemaVersion(ctx); err != nil {
		return nil, err
	} else if v > head.SchemaVersion {
		return nil, fmt.Errorf("%w: the database is at schema version %d, newer than the archive's %d; restore into a new database",
			ErrNotEmpty, v, head.SchemaVersion)
	}
	blobs, err := opt.Blobs()
	if err != nil {
		return nil, err
	}
	if err := l.MigrateTo(ctx, head.SchemaVersion); err != nil {
		return nil, err
	}
	if err := l.Begin(ctx); err != nil {
		return nil, err
	}
	tables, err := l.Tables(ctx)
	if err != nil {
		return nil, err
	}
	rd := &archiveReader{l: l, blobs: blobs, tables: tables, seen: map[string]Entry{}, rows: map[string]int64{}}
	rd.done(headerName, hh)
	var m *Manifest
	for m == nil {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, errors.New("backup: the archive ends before its manifest: it is incomplete")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("backup: the archive ends in the middle of an entry: it is incomplete")
		}
		if err != nil {
			return nil, fmt.Errorf("backup: reading the archive: %w", err)
		}
		switch name := hdr.Name; {
		case name == manifestName:
			m = &Manifest{}
			if err = json.NewDecoder(tr).Decode(m); err != nil {
				err = fmt.Errorf("backup: reading %s: %w", manifestName, err)
			}
		case strings.HasPrefix(name, tablePrefix):
			err = rd.table(ctx, hdr, tr)
		case strings.HasPrefix(name, blobPrefix):
			err = rd.blob(ctx, hdr, tr)
		default:
			err = fmt.Errorf("backup: unexpected entry %s", name)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("backup: the archive ends in the middle of %s: it is incomplete", hdr.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	// The manifest is the last entry. Reading the archive's end marker
	// too lets a backup streaming into a pipe finish its last write
	// instead of blocking on it (or failing with a broken pipe).
	if _, err := tr.Next(); err != io.EOF {
		if err == nil {
			err = errors.New("an entry follows the manifest")
		}
		return nil, fmt.Errorf("backup: reading the archive's end: %w", err)
	}
	if err := rd.check(m); err != nil {
		return nil, err
	}
	if err := l.SetSequences(ctx, m.Sequences); err != nil {
		return nil, err
	}
	if err := l.Commit(); err != nil {
		return nil, fmt.Errorf("backup: committing the restored rows: %w", err)
	}
	return m, nil
}

type archiveReader struct {
	l      *sqlstore.Loader
	blobs  parley.Blobs
	tables []string
	seen   map[string]Entry // entries read, with their checksums
	rows   map[string]int64 // rows loaded per table
}

// hashed reads an entry and checksums it.
type hashed struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashed(r io.Reader) *hashed { return &hashed{r: r, h: sha256.New()} }

func (h *hashed) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (rd *archiveReader) done(name string, h *hashed) error {
	if _, dup := rd.seen[name]; dup {
		return fmt.Errorf("backup: entry %s appears twice", name)
	}
	rd.seen[name] = Entry{Name: name, Size: h.n, SHA256: hex.EncodeToString(h.h.Sum(nil))}
	return nil
}

// table loads one chunk of a table's rows.
func (rd *archiveReader) table(ctx context.Context, hdr *tar.Header, r io.Reader) error {
	table, _, _ := strings.Cut(strings.TrimPrefix(hdr.Name, tablePrefix), "/")
	if !slices.Contains(rd.tables, table) {
		return fmt.Errorf("backup: table %s of the archive is not in this database", table)
	}
	h := newHashed(r)
	br := bufio.NewReaderSize(h, 64<<10)
	var cols []string
	line, err := br.ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &cols) != nil || len(cols) == 0 {
		return fmt.Errorf("backup: %s does not begin with its columns", hdr.Name)
	}
	var batch [][]any
	size := 0
	flush := func() error {
		err := rd.l.Insert(ctx, table, cols, batch)
		rd.rows[table] += int64(len(batch))
		batch, size = batch[:0], 0
		return err
	}
	maxRows := sqlstore.MaxInsertRows(len(cols))
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			return fmt.Errorf("backup: %s: %w", hdr.Name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var raw []any
		if err := dec.Decode(&raw); err != nil || len(raw) != len(cols) {
			return fmt.Errorf("backup: %s: a row is not an array of %d values", hdr.Name, len(cols))
		}
		for i, v := range raw {
			if raw[i], err = decodeValue(v); err != nil {
				return fmt.Errorf("backup: %s, column %s: %w", hdr.Name, cols[i], err)
			}
		}
		batch = append(batch, raw)
		size += len(line)
		if len(batch) >= maxRows || size >= loadBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return rd.done(hdr.Name, h)
}

// blob puts one file, streaming.
func (rd *archiveReader) blob(ctx context.Context, hdr *tar.Header, r io.Reader) error {
	key := strings.TrimPrefix(hdr.Name, blobPrefix)
	h := newHashed(r)
	if err := rd.blobs.Put(ctx, key, h, hdr.Size, hdr.PAXRecords[contentTypeRecord]); err != nil {
		return fmt.Errorf("backup: restoring file %s: %w", key, err)
	}
	return rd.done(hdr.Name, h)
}

// check compares what was read with the manifest.
func (rd *archiveReader) check(m *Manifest) error {
	if len(m.Entries) != len(rd.seen) {
		return fmt.Errorf("backup: the archive has %d entries, its manifest lists %d: it is damaged", len(rd.seen), len(m.Entries))
	}
	for _, e := range m.Entries {
		got, ok := rd.seen[e.Name]
		if !ok {
			return fmt.Errorf("backup: %s is missing from the archive: it is damaged", e.Name)
		}
		if got != e {
			return fmt.Errorf("backup: %s does not match its checksum: the archive is damaged", e.Name)
		}
	}
	for _, t := range m.Tables {
		if rd.rows[t.Name] != t.Rows {
			return fmt.Errorf("backup: %d rows of %s loaded, the manifest says %d", rd.rows[t.Name], t.Name, t.Rows)
		}
	}
	return nil
}
