package email

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"path"
	"regexp"
	"strings"
	"unicode"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// item is what one e-mail is to Parley: a customer's message, news of a
// reply (a bounce), or nothing, with skip saying why.
type item struct {
	msg    *channel.InMessage
	status *channel.StatusReport
	skip   string
	// unreadable is a message that is not e-mail at all.
	unreadable bool
}

// addTo adds what the item carries to in.
func (it item) addTo(in *channel.Inbound) {
	if it.msg != nil {
		in.Messages = append(in.Messages, *it.msg)
	}
	if it.status != nil {
		in.Statuses = append(in.Statuses, *it.status)
	}
}

// body is a message's parts, read.
type body struct {
	plain, html []string
	files       []channel.InFile
	dsn         []string // message/delivery-status parts
	orig        []string // Message-IDs of the returned message's headers
}

// parse reads one raw message for the channel whose address is own.
// nullSender says the envelope's sender was empty (MAIL FROM:<>), as it is
// for bounces and other automatic mail.
//
// What is skipped: automatic replies (Auto-Submitted other than "no",
// Precedence auto_reply or junk, X-Autoreply), read receipts, mail from
// the channel's own address or with one of its own Message-IDs (a copy
// of a reply), bounces that name no message, and mail without a sender.
// A bounce (a multipart/report delivery-status, or mail from
// MAILER-DAEMON or postmaster, or with an empty sender) becomes a failed
// status of the message it returns; the service ignores it if that
// message is not one of the channel's.
func parse(raw []byte, own string, nullSender bool) item {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return item{skip: "unreadable: " + err.Error(), unreadable: true}
	}
	h := mail.Header{Header: e.Header}
	from := sender(h)
	if from == nil {
		return item{skip: "no sender"}
	}
	addr := strings.ToLower(from.Address)
	id := messageID(h, raw)
	domain := own[strings.LastIndexByte(own, '@')+1:]
	if addr == own || ours(id, domain) {
		return item{skip: "a copy of the channel's own mail"}
	}
	ct, params, _ := e.Header.ContentType()
	report := ""
	if ct == "multipart/report" {
		report = strings.ToLower(params["report-type"])
	}
	if report == "disposition-notification" {
		return item{skip: "a read receipt"}
	}
	b := walk(e, report != "")
	local := addr[:max(strings.IndexByte(addr, '@'), 0)]
	if report == "delivery-status" || local == "mailer-daemon" || local == "postmaster" || nullSender ||
		strings.TrimSpace(h.Get("Return-Path")) == "<>" {
		if auto := autoReply(h); auto != "" && report == "" && local != "mailer-daemon" && local != "postmaster" {
			return item{skip: auto} // a vacation notice, also sent with an empty sender
		}
		return bounce(h, b)
	}
	if auto := autoReply(h); auto != "" {
		return item{skip: auto}
	}
	m := &channel.InMessage{ExternalID: id, From: addr, Email: addr, Files: b.files}
	if name := strings.TrimSpace(from.Name); !strings.EqualFold(name, from.Address) {
		m.Name = name
	}
	if m.Subject, err = h.Subject(); err != nil {
		m.Subject = h.Get("Subject")
	}
	m.Subject = strings.TrimSpace(m.Subject)
	if ids, _ := h.MsgIDList("In-Reply-To"); len(ids) > 0 {
		m.ReplyTo = ids[0]
	} else if ids, _ := h.MsgIDList("References"); len(ids) > 0 {
		m.ReplyTo = ids[len(ids)-1]
	}
	text := strings.Join(b.plain, "\n\n")
	if strings.TrimSpace(text) == "" && len(b.html) > 0 {
		text = htmlToText(strings.Join(b.html, "\n"))
	}
	m.Text = strings.TrimSpace(cutQuote(text))
	return item{msg: m}
}

var addrRe = regexp.MustCompile(`[^\s<>"',;:]+@[^\s<>"',;:]+\.[^\s<>"',;:]+`)

// sender is the message's From (or Sender), read leniently.
func sender(h mail.Header) *mail.Address {
	for _, key := range []string{"From", "Sender"} {
		if list, err := h.AddressList(key); err == nil && len(list) > 0 {
			return list[0]
		}
		if a := addrRe.FindString(h.Get(key)); a != "" {
			return &mail.Address{Address: a}
		}
	}
	return nil
}

// messageID is the message's Message-ID without its angle brackets; a
// message without a usable one gets a hash of its bytes, which is the
// same when the same message is fetched again.
func messageID(h mail.Header, raw []byte) string {
	id, err := h.MessageID()
	if err != nil || !validID(id) {
		id = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	}
	if validID(id) {
		return id
	}
	sum := sha256.Sum256(raw)
	return "sha256." + hex.EncodeToString(sum[:16]) + "@parley.invalid"
}

// validID reports whether id can stand between angle brackets in a
// header: printable ASCII, no spaces or brackets, not absurdly long.
func validID(id string) bool {
	if id == "" || len(id) > 250 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// autoReply says why a message is an automatic one (RFC 3834), or "".
func autoReply(h mail.Header) string {
	v, _, _ := strings.Cut(strings.ToLower(h.Get("Auto-Submitted")), ";")
	if v = strings.TrimSpace(v); v != "" && v != "no" {
		return "an automatic message (Auto-Submitted: " + v + ")"
	}
	switch p := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); p {
	case "auto_reply", "junk":
		return "an automatic message (Precedence: " + p + ")"
	}
	if h.Has("X-Autoreply") || h.Has("X-Autorespond") {
		return "an automatic reply"
	}
	return ""
}

// walk reads every leaf part: text for the message, files, and in a
// report the delivery status and the returned message's id.
func walk(e *message.Entity, report bool) *body {
	b := &body{}
	n := 0
	e.Walk(func(_ []int, p *message.Entity, err error) error {
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			return nil
		}
		t, params, _ := p.Header.ContentType()
		if t == "" {
			t = "text/plain"
		}
		if strings.HasPrefix(t, "multipart/") {
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(p.Body, maxFetch))
		if err != nil {
			return nil // a part whose encoding is broken
		}
		disp, dparams, _ := p.Header.ContentDisposition()
		name := firstOf(dparams["filename"], params["name"])
		switch {
		case t == "message/delivery-status" || t == "message/global-delivery-status":
			b.dsn = append(b.dsn, string(data))
		case report && (t == "message/rfc822" || t == "message/global" || t == "text/rfc822-headers" || t == "message/global-headers"):
			if id := headerID(data); id != "" {
				b.orig = append(b.orig, id)
			}
		case disp != "attachment" && name == "" && (t == "text/plain" || t == "text/html"):
			s := lineEnds.Replace(strings.ToValidUTF8(string(data), "\uFFFD"))
			if t == "text/html" {
				b.html = append(b.html, s)
			} else if strings.EqualFold(params["format"], "flowed") {
				b.plain = append(b.plain, unflow(s, strings.EqualFold(params["delsp"], "yes")))
			} else {
				b.plain = append(b.plain, s)
			}
		default:
			n++
			b.files = append(b.files, inFile(fileName(name, t, n), t, data))
		}
		return nil
	})
	return b
}

// lineEnds makes CRLF and a bare CR (which one pass over CRLF left in
// "\r\r\n") plain line ends.
var lineEnds = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// headerID is the Message-ID in a returned message or its headers.
func headerID(data []byte) string {
	hdr, err := textproto.ReadHeader(bufio.NewReader(io.MultiReader(bytes.NewReader(data), strings.NewReader("\r\n\r\n"))))
	if err != nil {
		return ""
	}
	h := mail.Header{Header: message.Header{Header: hdr}}
	if id, err := h.MessageID(); err == nil && validID(id) {
		return id
	}
	return ""
}

func inFile(name, contentType string, data []byte) channel.InFile {
	return channel.InFile{Name: name, ContentType: contentType, Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// fileName is an attachment's name without any path, or one made from its
// type when it has none ("attachment-2.png").
func fileName(name, contentType string, n int) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, path.Base(strings.ReplaceAll(name, "\\", "/")))
	name = strings.TrimSpace(name)
	if name != "" && name != "." && name != ".." && name != "/" {
		return name
	}
	ext := ".bin"
	switch contentType {
	case "message/rfc822":
		ext = ".eml"
	case "text/calendar":
		ext = ".ics"
	case "image/jpeg":
		ext = ".jpg"
	default:
		if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return fmt.Sprintf("attachment-%d%s", n, ext)
}

var msgIDLine = regexp.MustCompile(`(?im)^\s*Message-ID:\s*<([^>\s]+)>`)

// bounce turns a returned message into the failed status of the message
// it returns: the Message-ID from the returned headers, else the bounce's
// In-Reply-To or References, else a Message-ID line in its text. A DSN
// that says "delayed", "delivered" or "relayed" is not a failure.
func bounce(h mail.Header, b *body) item {
	orig := ""
	if len(b.orig) > 0 {
		orig = b.orig[0]
	}
	if orig == "" {
		if ids, _ := h.MsgIDList("In-Reply-To"); len(ids) > 0 {
			orig = ids[0]
		} else if ids, _ := h.MsgIDList("References"); len(ids) > 0 {
			orig = ids[len(ids)-1]
		}
	}
	if orig == "" {
		for _, t := range b.plain {
			if m := msgIDLine.FindStringSubmatch(t); m != nil {
				orig = m[1]
				break
			}
		}
	}
	if orig == "" {
		return item{skip: "a bounce that names no message"}
	}
	f := dsnFields(b.dsn)
	action, status := strings.ToLower(f["action"]), f["status"]
	switch {
	case action != "" && action != "failed":
		return item{skip: "a delivery notice (" + action + ")"}
	case action == "" && strings.HasPrefix(status, "4"):
		return item{skip: "a delay notice"}
	}
	reason := afterType(f["diagnostic-code"])
	if reason == "" && status != "" {
		reason = "status " + status
	}
	if reason == "" {
		reason, _ = h.Subject()
	}
	msg := "the customer's mail server returned the message"
	if rcpt := afterType(firstOf(f["final-recipient"], f["original-recipient"])); rcpt != "" {
		msg = "could not deliver to " + rcpt
	}
	if reason = strings.TrimSpace(reason); reason != "" {
		msg += ": " + reason
	}
	return item{status: &channel.StatusReport{ExternalID: orig, Status: parley.StatusFailed, Error: msg}}
}

// afterType drops a DSN field's type ("smtp; 550 ..." is "550 ...").
func afterType(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// dsnFields reads a delivery status (RFC 3464 §2.1): a block of fields
// about the message, then one block per recipient. It returns the first
// recipient's block whose action is failed (else the first recipient's),
// with the message's fields under it; keys are lowercased.
func dsnFields(parts []string) map[string]string {
	var blocks []map[string]string
	for _, p := range parts {
		cur := map[string]string{}
		last := ""
		for _, l := range strings.Split(strings.ReplaceAll(p, "\r\n", "\n"), "\n") {
			switch {
			case strings.TrimSpace(l) == "":
				if len(cur) > 0 {
					blocks = append(blocks, cur)
					cur, last = map[string]string{}, ""
				}
			case (l[0] == ' ' || l[0] == '\t') && last != "":
				cur[last] += " " + strings.TrimSpace(l)
			default:
				k, v, ok := strings.Cut(l, ":")
				if !ok {
					continue
				}
				last = strings.ToLower(strings.TrimSpace(k))
				if _, dup := cur[last]; !dup {
					cur[last] = strings.TrimSpace(v)
				}
			}
		}
		if len(cur) > 0 {
			blocks = append(blocks, cur)
		}
	}
	out := map[string]string{}
	if len(blocks) == 0 {
		return out
	}
	pick := -1
	for i := 1; i < len(blocks); i++ {
		if strings.EqualFold(blocks[i]["action"], "failed") {
			pick = i
			break
		}
	}
	if pick < 0 && len(blocks) > 1 {
		pick = 1
	}
	for k, v := range blocks[0] {
		out[k] = v
	}
	if pick > 0 {
		for k, v := range blocks[pick] {
			out[k] = v
		}
	}
	return out
}
