package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
)

// TestBackupRestore fills a running server, backs it up while a user
// keeps sending, restores the backup into a new data directory (SQLite)
// or a new schema and bucket (PostgreSQL, with files in S3) where a server
// started once, and finds everything on a server started
// there: messages, the file byte for byte, sign-in, the live chat dialog
// and its case, search, and ids that continue after the restored ones. A
// second restore into the now full target is refused and changes nothing.
func TestBackupRestore(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		ctx := context.Background()
		// On PostgreSQL the files are in S3 (an in-process server): the
		// backup copies them from one bucket, the restore puts them into
		// another.
		var cfg Config
		for _, o := range opts {
			o(&cfg)
		}
		pg := cfg.Database != ""
		var s3Args func(bucket string) []string
		if pg {
			srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
			t.Cleanup(srv.Close)
			endpoint := strings.TrimPrefix(srv.URL, "http://")
			s3Args = func(bucket string) []string {
				return []string{"--s3-endpoint", endpoint, "--s3-bucket", bucket, "--s3-access-key", "key", "--s3-secret-key", "secret", "--s3-region", "us-east-1"}
			}
			opts = append(opts, withS3(endpoint, "parley"))
		}
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		c := s.newUser(t, parley.RoleMember, "Clara Gamma")
		dm := a.directAllowed(b)
		team := a.group("Team", b, c)
		a.send(dm.ID, "the quarterly figures are attached")
		pic := makePNG(t, 320, 200)
		var f parley.File
		a.upload("chart.png", "image/png", pic).want(http.StatusCreated).decode(&f)
		a.sendBody(dm.ID, map[string]any{"text": "chart", "file_ids": []int64{f.ID}})
		b.send(dm.ID, "thanks, looks good")
		c.send(team.ID, "standup at ten")

		// Live chat: an offline visitor's message becomes a case; with a
		// consultant online, a dialog.
		lc := newLiveChat(t, s)
		off := s.visitor(t, lc.project.Key, map[string]any{"name": "Olga"})
		off.send("Is my order shipped?")
		var cases struct{ Cases []parley.Case }
		lc.a.do("GET", "/api/v1/cases?status=open", nil).want(http.StatusOK).decode(&cases)
		if len(cases.Cases) != 1 {
			t.Fatalf("cases: %+v", cases)
		}
		lc.a.connect()
		lc.waitOnline(t, true)
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		v.send("Hello, anyone there?")
		dialog := v.history().Conversation.ID
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", dialog), nil).want(http.StatusOK)
		lc.a.send(dialog, "Hi Vera, Anna here")

		// Anna keeps sending to the team while the backup runs.
		sender := startSending(t, s, a, team.ID)
		sender.waitSent(t, 5)
		archive := filepath.Join(t.TempDir(), "parley.tar")
		var out bytes.Buffer
		args := []string{"backup", "--out", archive, "--data", s.m.Config.DataDir}
		if pg {
			args = append(append(args, "--database", s.m.Config.Database), s3Args("parley")...)
		}
		start := time.Now()
		if err := run(ctx, args, &out, &out); err != nil {
			t.Fatalf("parley backup: %v\n%s", err, out.String())
		}
		took := time.Since(start)
		sentDuring := sender.count()
		acked := sender.stop(t)
		t.Logf("backup in %v (%d sends acknowledged before it ended, %d in all): %s", took, sentDuring, len(acked), strings.TrimSpace(out.String()))

		// A new, empty target: a data directory, and for PostgreSQL a new
		// schema.
		var target []serverOption
		dir := t.TempDir()
		target = append(target, withDataDir(dir))
		restoreArgs := []string{"restore", "--in", archive, "--data", dir}
		if pg {
			dsn := postgresURL(t)
			target = append(target, withDatabase(dsn), withS3(s3Args("")[1], "restored"))
			restoreArgs = append(append(restoreArgs, "--database", dsn), s3Args("restored")...)
		}
		// A server that started there once, with nobody signed up, leaves
		// it empty enough.
		newServer(t, target...).stop()
		out.Reset()
		if err := run(ctx, restoreArgs, &out, &out); err != nil {
			t.Fatalf("parley restore: %v\n%s", err, out.String())
		}
		t.Logf("%s", strings.TrimSpace(out.String()))
		s2 := newServer(t, target...)

		// The same people sign in with the same passwords.
		a2, b2, c2 := s2.login(t, a.user.Email, testPassword), s2.login(t, b.user.Email, testPassword), s2.login(t, c.user.Email, testPassword)
		if got := texts(b2.history(dm.ID, "")); !sameStrings(got, []string{"the quarterly figures are attached", "chart", "thanks, looks good"}) {
			t.Errorf("the direct chat after restoring: %q", got)
		}
		r := b2.do("GET", filePath(f.ID, ""), nil).want(http.StatusOK)
		if !bytes.Equal(r.Body, pic) || r.Header.Get("Content-Type") != "image/png" {
			t.Errorf("the restored file: %d bytes of %s, want the %d uploaded", len(r.Body), r.Header.Get("Content-Type"), len(pic))
		}
		b2.do("GET", filePath(f.ID, "/thumbnail"), nil).want(http.StatusOK)
		c2.do("GET", filePath(f.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// The team chat holds a prefix of Anna's sends, in order, and at
		// least those acknowledged before the backup began.
		var restored []*parley.Message
		for before := int64(0); ; {
			q := "limit=100"
			if before > 0 {
				q += fmt.Sprintf("&before=%d", before)
			}
			page := c2.history(team.ID, q)
			if len(page) == 0 {
				break
			}
			restored = append(page, restored...)
			before = page[0].Seq
		}
		got := texts(restored)
		if len(got) == 0 || got[0] != "standup at ten" {
			t.Fatalf("the team chat after restoring: %q", got)
		}
		got = got[1:]
		if len(got) < 5 || len(got) > len(acked) {
			t.Fatalf("%d of Anna's %d sends restored; want at least the 5 sent before the backup", len(got), len(acked))
		}
		var lastID int64
		for i, text := range got {
			if text != acked[i].Text {
				t.Fatalf("restored send %d is %q, want %q: the snapshot is not a prefix of the commits", i, text, acked[i].Text)
			}
		}
		for _, m := range restored {
			lastID = max(lastID, m.ID)
		}
		t.Logf("%d of %d sends were in the snapshot", len(got), len(acked))

		// New messages and files continue after the restored ones.
		m := a2.send(team.ID, "after the restore")
		if m.ID <= lastID || m.ID <= acked[len(got)-1].ID || m.Seq != restored[len(restored)-1].Seq+1 {
			t.Errorf("a new message has id %d, seq %d; the restored end at id %d, seq %d", m.ID, m.Seq, lastID, restored[len(restored)-1].Seq)
		}
		var f2 parley.File
		a2.upload("again.txt", "text/plain", []byte("again")).want(http.StatusCreated).decode(&f2)
		if f2.ID <= f.ID {
			t.Errorf("a new file has id %d, not after the restored %d", f2.ID, f.ID)
		}

		// Live chat: the dialog and the case are back, for the consultant.
		la := s2.login(t, lc.a.user.Email, testPassword)
		if got := texts(la.history(dialog, "")); !sameStrings(got, []string{"Hello, anyone there?", "Hi Vera, Anna here"}) {
			t.Errorf("the dialog after restoring: %q", got)
		}
		var cv livechat.CaseView
		la.do("GET", fmt.Sprintf("/api/v1/cases/%d", cases.Cases[0].ID), nil).want(http.StatusOK).decode(&cv)
		if cv.Description != "Is my order shipped?" {
			t.Errorf("the case after restoring: %+v", cv.Case)
		}

		// Search finds restored messages (SQLite indexes them again in the
		// background).
		eventually(t, "search to find a restored message", func() bool {
			return len(b2.search("q=quarterly")) == 1
		})

		// Restoring into the now full target is refused, changing nothing.
		out.Reset()
		err := run(ctx, restoreArgs, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("restoring into a full database: %v, want a refusal", err)
		}
		if got := texts(c2.history(team.ID, "limit=1")); !sameStrings(got, []string{"after the restore"}) {
			t.Errorf("after the refused restore the team chat ends with %q", got)
		}
	})
}

// TestRestoreRefusesBadArchives: a file that is not a backup, and a backup
// cut short, change nothing; the target stays empty for the next try.
func TestRestoreRefusesBadArchives(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	a := s.newUser(t, parley.RoleMember, "Anna Alpha")
	var f parley.File
	a.upload("notes.txt", "text/plain", bytes.Repeat([]byte("notes "), 1000)).want(http.StatusCreated).decode(&f)
	archive := filepath.Join(t.TempDir(), "parley.tar")
	var out bytes.Buffer
	if err := run(ctx, []string{"backup", "--out", archive, "--data", s.m.Config.DataDir}, &out, &out); err != nil {
		t.Fatalf("parley backup: %v", err)
	}
	whole, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name, want string
		data       []byte
	}{
		{"not a backup", "not a Parley backup", []byte("hello")},
		{"cut short", "incomplete", whole[:len(whole)-3000]},
	} {
		bad := filepath.Join(t.TempDir(), "bad.tar")
		os.WriteFile(bad, tt.data, 0o600)
		err := run(ctx, []string{"restore", "--in", bad, "--data", dir}, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: restore answered %v, want %q", tt.name, err, tt.want)
		}
	}
	// The target is still empty: the whole archive restores.
	out.Reset()
	if err := run(ctx, []string{"restore", "--in", archive, "--data", dir}, &out, &out); err != nil {
		t.Fatalf("restoring after the failed attempts: %v", err)
	}
	s2 := newServer(t, withDataDir(dir))
	r := s2.login(t, a.user.Email, testPassword).do("GET", filePath(f.ID, ""), nil).want(http.StatusOK)
	if !bytes.Equal(r.Body, bytes.Repeat([]byte("notes "), 1000)) {
		t.Errorf("the restored file differs")
	}
}

// withS3 keeps the server's files in a bucket of an S3 server.
func withS3(endpoint, bucket string) serverOption {
	return func(c *Config) {
		c.S3Endpoint, c.S3Bucket, c.S3AccessKey, c.S3SecretKey, c.S3Region = endpoint, bucket, "key", "secret", "us-east-1"
	}
}

// sender sends messages one after another from its own goroutine, as a
// user typing while the backup runs, and keeps what was acknowledged.
type sender struct {
	mu    sync.Mutex
	acked []parley.Message
	err   error
	done  chan struct{}
	quit  chan struct{}
}

func startSending(t *testing.T, s *testServer, c *client, conv int64) *sender {
	sd := &sender{done: make(chan struct{}), quit: make(chan struct{})}
	url := fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.url, conv)
	go func() {
		defer close(sd.done)
		for i := 0; ; i++ {
			select {
			case <-sd.quit:
				return
			default:
			}
			body, _ := json.Marshal(map[string]any{"text": fmt.Sprintf("send %d", i), "client_id": fmt.Sprintf("backup-%d", i)})
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := s.http.Do(req)
			if err != nil {
				sd.fail(err)
				return
			}
			var m parley.Message
			err = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated || err != nil {
				sd.fail(fmt.Errorf("send %d: status %d, %v", i, resp.StatusCode, err))
				return
			}
			sd.mu.Lock()
			sd.acked = append(sd.acked, m)
			sd.mu.Unlock()
		}
	}()
	t.Cleanup(func() { sd.stop(t) })
	return sd
}

func (sd *sender) fail(err error) {
	sd.mu.Lock()
	sd.err = err
	sd.mu.Unlock()
}

func (sd *sender) count() int {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	return len(sd.acked)
}

func (sd *sender) waitSent(t *testing.T, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d sends", n), func() bool { return sd.count() >= n })
}

// stop ends the sending and returns what was acknowledged, in order.
func (sd *sender) stop(t *testing.T) []parley.Message {
	t.Helper()
	select {
	case <-sd.quit:
	default:
		close(sd.quit)
	}
	<-sd.done
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if sd.err != nil {
		t.Errorf("sending during the backup: %v", sd.err)
	}
	return sd.acked
}
