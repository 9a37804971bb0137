package emailtest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
)

// Message is an e-mail as a customer's mail program sends it.
type Message struct {
	// From and To: "Ann Lee <ann@example.com>" or a bare address.
	From, To string
	Subject  string
	// MessageID, InReplyTo and References are ids without angle
	// brackets; an empty MessageID leaves the header out.
	MessageID  string
	InReplyTo  string
	References []string
	Date       time.Time // zero: now
	// Text and HTML are the body's alternatives; either may be empty.
	Text, HTML string
	Files      []File
	// Header adds fields (Auto-Submitted, Precedence, ...).
	Header map[string]string
}

// File is an attachment, or with Inline an inline image.
type File struct {
	Name        string
	ContentType string
	Data        []byte
	Inline      bool
}

// Bytes writes the message: one text part, multipart/alternative for
// text and HTML, inside multipart/mixed when it has files. It panics on a
// malformed field: messages are test fixtures.
func (m Message) Bytes() []byte {
	var h mail.Header
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	h.SetDate(date)
	setAddress(&h, "From", m.From)
	setAddress(&h, "To", m.To)
	h.SetSubject(m.Subject)
	if m.MessageID != "" {
		h.SetMessageID(m.MessageID)
	}
	if m.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{m.InReplyTo})
	}
	if len(m.References) > 0 {
		h.SetMsgIDList("References", m.References)
	}
	for k, v := range m.Header {
		h.Set(k, v)
	}
	var buf bytes.Buffer
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	write := func(w io.WriteCloser, err error, s []byte) {
		must(err)
		_, err = w.Write(s)
		must(err)
		must(w.Close())
	}
	text := func(t string) mail.InlineHeader {
		var ih mail.InlineHeader
		ih.SetContentType(t, map[string]string{"charset": "utf-8"})
		return ih
	}
	if len(m.Files) == 0 && (m.Text == "" || m.HTML == "") {
		t, body := "text/plain", m.Text
		if m.HTML != "" {
			t, body = "text/html", m.HTML
		}
		h.SetContentType(t, map[string]string{"charset": "utf-8"})
		w, err := mail.CreateSingleInlineWriter(&buf, h)
		write(w, err, []byte(body))
		return buf.Bytes()
	}
	mw, err := mail.CreateWriter(&buf, h)
	must(err)
	switch {
	case m.Text != "" && m.HTML != "":
		iw, err := mw.CreateInline()
		must(err)
		w, err := iw.CreatePart(text("text/plain"))
		write(w, err, []byte(m.Text))
		w, err = iw.CreatePart(text("text/html"))
		write(w, err, []byte(m.HTML))
		must(iw.Close())
	case m.HTML != "":
		w, err := mw.CreateSingleInline(text("text/html"))
		write(w, err, []byte(m.HTML))
	case m.Text != "":
		w, err := mw.CreateSingleInline(text("text/plain"))
		write(w, err, []byte(m.Text))
	}
	for i, f := range m.Files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if f.Inline {
			var ih mail.InlineHeader
			ih.SetContentType(ct, nil)
			ih.Set("Content-Id", fmt.Sprintf("<part%d@emailtest>", i))
			w, err := mw.CreateSingleInline(ih)
			write(w, err, f.Data)
			continue
		}
		var ah mail.AttachmentHeader
		ah.SetContentType(ct, nil)
		ah.SetFilename(f.Name)
		w, err := mw.CreateAttachment(ah)
		write(w, err, f.Data)
	}
	must(mw.Close())
	return buf.Bytes()
}

func setAddress(h *mail.Header, key, v string) {
	if v == "" {
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		panic(fmt.Sprintf("emailtest: %s %q: %v", key, v, err))
	}
	h.SetAddressList(key, []*mail.Address{a})
}

// Bounce is a delivery status notification (RFC 3464) as a mail server
// sends it when a message cannot be delivered.
type Bounce struct {
	// To is who gets the bounce: the sender of the returned message.
	To string
	// Recipient is the address that failed.
	Recipient string
	// OriginalID is the returned message's Message-ID (without angle
	// brackets).
	OriginalID string
	// Action is "failed" (default), "delayed", "delivered", ...
	Action string
	// Status ("5.1.1") and Diagnostic ("smtp; 550 5.1.1 user unknown").
	Status, Diagnostic string
	// HeadersOnly returns text/rfc822-headers rather than the whole
	// message/rfc822.
	HeadersOnly bool
	// NoReport makes an old-style bounce: plain text from MAILER-DAEMON
	// that quotes the returned message's headers.
	NoReport bool
}

// Bytes writes the bounce, from MAILER-DAEMON@mx.emailtest.
func (b Bounce) Bytes() []byte {
	if b.Action == "" {
		b.Action = "failed"
	}
	if b.Status == "" {
		b.Status = "5.1.1"
	}
	if b.Diagnostic == "" {
		b.Diagnostic = "smtp; 550 5.1.1 <" + b.Recipient + ">: Recipient address rejected: User unknown"
	}
	orig := "From: " + b.To + "\r\nTo: " + b.Recipient + "\r\nSubject: Re: your question\r\nMessage-ID: <" + b.OriginalID + ">\r\n"
	var s strings.Builder
	s.WriteString("From: Mail Delivery System <MAILER-DAEMON@mx.emailtest>\r\n")
	s.WriteString("To: " + b.To + "\r\n")
	s.WriteString("Subject: Undelivered Mail Returned to Sender\r\n")
	s.WriteString("Date: " + time.Now().Format(time.RFC1123Z) + "\r\n")
	s.WriteString("Message-ID: <bounce." + fmt.Sprint(time.Now().UnixNano()) + "@mx.emailtest>\r\n")
	s.WriteString("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n")
	if b.NoReport {
		s.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
		s.WriteString("I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n")
		s.WriteString("<" + b.Recipient + ">: " + b.Diagnostic + "\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n")
		s.WriteString(orig + "\r\nHello\r\n")
		return []byte(s.String())
	}
	s.WriteString("Content-Type: multipart/report; report-type=delivery-status; boundary=\"BOUNDARY\"\r\n\r\n")
	s.WriteString("--BOUNDARY\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	s.WriteString("This is the mail system at host mx.emailtest.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n")
	s.WriteString("--BOUNDARY\r\nContent-Type: message/delivery-status\r\n\r\n")
	s.WriteString("Reporting-MTA: dns; mx.emailtest\r\nArrival-Date: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\n")
	s.WriteString("Final-Recipient: rfc822; " + b.Recipient + "\r\nOriginal-Recipient: rfc822;" + b.Recipient + "\r\n")
	s.WriteString("Action: " + b.Action + "\r\nStatus: " + b.Status + "\r\nRemote-MTA: dns; mx.customer.example\r\n")
	s.WriteString("Diagnostic-Code: " + b.Diagnostic + "\r\n\r\n")
	if b.HeadersOnly {
		s.WriteString("--BOUNDARY\r\nContent-Type: text/rfc822-headers\r\n\r\n" + orig)
	} else {
		s.WriteString("--BOUNDARY\r\nContent-Type: message/rfc822\r\n\r\n" + orig + "\r\nHello, here is your answer.\r\n")
	}
	s.WriteString("\r\n--BOUNDARY--\r\n")
	return []byte(s.String())
}
