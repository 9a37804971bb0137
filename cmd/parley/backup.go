package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/backup"
)

// backupCmd is `parley backup --out FILE`: a consistent snapshot of the
// database and its files, from beside running servers, with serve's
// configuration.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	cfg, err := parseConfig("backup", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write the backup to (a tar archive; - for standard output)")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return errors.New("backup: --out is required")
	}
	blobs, err := (&Main{Config: cfg}).openBlobs()
	if err != nil {
		return err
	}
	defer closeBlobs(blobs)
	report := stdout
	if out == "-" {
		report = stderr
		m, err := backup.Write(ctx, stdout, cfg.Database, blobs)
		if err != nil {
			return err
		}
		printBackup(report, "wrote", m)
		return nil
	}
	// A temporary name until the archive is whole and on disk: a backup
	// that fails leaves no file that looks like one.
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.partial")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	m, err := backup.Write(ctx, f, cfg.Database, blobs)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		return err
	}
	printBackup(report, "wrote "+out+":", m)
	return nil
}

// restoreCmd is `parley restore --in FILE`: a backup into an empty
// database and the configured file storage.
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var in string
	cfg, err := parseConfig("restore", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&in, "in", "", "backup to restore (written by parley backup; - for standard input)")
	})
	if err != nil {
		return err
	}
	if in == "" {
		return errors.New("restore: --in is required")
	}
	var r io.Reader = os.Stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	var blobs parley.Blobs
	defer func() { closeBlobs(blobs) }()
	m, err := backup.Restore(ctx, r, backup.RestoreOptions{DSN: cfg.Database, Blobs: func() (parley.Blobs, error) {
		var err error
		blobs, err = (&Main{Config: cfg}).openBlobs()
		return blobs, err
	}})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	printBackup(stdout, "restored", m)
	return nil
}

func printBackup(w io.Writer, verb string, m *backup.Manifest) {
	fmt.Fprintf(w, "%s %s database at schema version %d (%d rows in %d tables) and %d files (%d bytes), taken %s by Parley %s\n",
		verb, m.Dialect, m.SchemaVersion, m.Rows(), len(m.Tables), m.Files, m.FileBytes, m.CreatedAt.Format("2006-01-02 15:04:05Z"), m.Parley)
	if len(m.Missing) > 0 {
		fmt.Fprintf(w, "%d files the database refers to were not in storage (uploads under way, or deleted meanwhile): %v\n", len(m.Missing), m.Missing)
	}
}

func closeBlobs(b parley.Blobs) {
	if c, ok := b.(io.Closer); ok {
		c.Close()
	}
}
