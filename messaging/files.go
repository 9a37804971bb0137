package messaging

import (
	"bytes"
	"context"
	"io"
	"mime"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// Upload stores a file for the actor to send in a message. Images get their
// dimensions recorded and a preview made. With a conversation (to, 0 for
// none) the file is checked, before it is read, against the attachment
// limits of the dialog's channel, which its message must meet anyway.
func (s *Service) Upload(ctx context.Context, actor *parley.User, to int64, name, contentType string, size int64, r io.Reader) (*parley.File, error) {
	var limits *Limits
	if to != 0 {
		if err := s.readable(ctx, to, actor); err != nil {
			return nil, err
		}
		c, err := s.store.ConversationByID(ctx, to)
		if err != nil {
			return nil, err
		}
		if limits, err = s.limitsOf(ctx, s.store, c); err != nil {
			return nil, err
		}
	}
	return s.upload(ctx, &parley.File{OwnerID: actor.ID}, name, contentType, size, r, limits)
}

// UploadAsContact stores a visitor's file for their next message, within
// the limits of their channel.
func (s *Service) UploadAsContact(ctx context.Context, contact *parley.Contact, limits *Limits, name, contentType string, size int64, r io.Reader) (*parley.File, error) {
	return s.upload(ctx, &parley.File{ContactID: contact.ID}, name, contentType, size, r, limits)
}

// Limits are the attachment limits of a dialog's channel.
type Limits struct {
	Channel string
	parley.AttachmentLimits
}

// limitsOf returns the attachment limits of a support conversation (nil
// for others: the server's file limit alone).
func (s *Service) limitsOf(ctx context.Context, r parley.Reader, c *parley.Conversation) (*Limits, error) {
	if c.Support == nil || s.support == nil {
		return nil, nil
	}
	l, err := s.support.AttachmentLimits(ctx, r, c)
	if err != nil {
		return nil, err
	}
	return &Limits{Channel: c.Support.Channel, AttachmentLimits: l}, nil
}

// check refuses a file over the limit for its kind, in words.
func (l *Limits) check(contentType string, size int64) error {
	if l == nil {
		return nil
	}
	if max := l.For(contentType); max > 0 && size > max {
		kind := parley.AttachmentKind(contentType)
		what := map[string]string{parley.AttachImage: "Images", parley.AttachAudio: "Audio files", parley.AttachVideo: "Videos"}[kind]
		if what == "" {
			what = "Files"
		}
		return parley.Errorf(parley.ETOOLARGE, "%s can be at most %s in this channel (%s); this one has %s",
			what, humanSize(max), l.Channel, humanSize(size))
	}
	return nil
}

// humanSize writes a size as people read it: "10 MB", "1.5 MB", "820 KB".
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		v := float64(n) / (1 << 20)
		if v == float64(int64(v)) || v >= 100 {
			return strconv.FormatInt(int64(v), 10) + " MB"
		}
		return strconv.FormatFloat(v, 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// upload stores a file for f's owner (a user or a contact).
func (s *Service) upload(ctx context.Context, f *parley.File, name, contentType string, size int64, r io.Reader, limits *Limits) (*parley.File, error) {
	name = cleanName(name)
	if size <= 0 {
		return nil, parley.Invalid("file", "the file is empty")
	}
	if size > s.cfg.MaxFileSize {
		return nil, parley.Errorf(parley.ETOOLARGE, "the file has %d bytes; the limit is %d", size, s.cfg.MaxFileSize)
	}
	contentType = cleanType(contentType, name)
	if err := limits.check(contentType, size); err != nil {
		return nil, err
	}
	// Buffer up to 8 MiB to read image headers and make a preview; larger
	// files stream straight to storage.
	var head []byte
	var body io.Reader = r
	if size <= 8<<20 {
		b, err := io.ReadAll(io.LimitReader(r, size+1))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) != size {
			return nil, parley.Invalid("file", "the upload has %d bytes, not the %d announced", len(b), size)
		}
		head, body = b, bytes.NewReader(b)
	}
	f.Name, f.ContentType, f.Size = name, contentType, size
	var thumb []byte
	if head != nil && strings.HasPrefix(contentType, "image/") {
		if w, h, t, ok := preview(ctx, head); ok {
			f.Width, f.Height, thumb = w, h, t
			f.HasThumb = thumb != nil
		}
	}
	if err := s.write(ctx, func(tx parley.Tx) error { return tx.CreateFile(ctx, f) }); err != nil {
		return nil, err
	}
	if err := s.blobs.Put(ctx, f.BlobKey(), body, size, contentType); err != nil {
		return nil, err
	}
	if thumb != nil {
		if err := s.blobs.Put(ctx, f.ThumbKey(), bytes.NewReader(thumb), int64(len(thumb)), "image/jpeg"); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// cleanName is an upload's name without any path, control characters
// (C0 and C1) or bidirectional controls (which make "invoice\u202Efdp.exe"
// read as a PDF), bounded to 200 characters.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '"' {
			return -1
		}
		return r
	}, name)
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[len(r)-200:])
	}
	if name == "" || name == "." || name == ".." || name == "/" {
		name = "file"
	}
	return name
}

// cleanType keeps a well-formed media type, else guesses from the name.
// Longer than RFC 6838 allows (127 characters each side) is not well
// formed: file storage refuses it, after the file's record was written.
func cleanType(ct, name string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil && strings.Contains(mt, "/") && len(mt) <= 255 {
		return mt
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}

// Download opens a file for the actor: its uploader, or a member of the
// conversation it was sent to. thumb asks for the preview.
func (s *Service) Download(ctx context.Context, actor *parley.User, id int64, thumb bool) (*parley.File, io.ReadCloser, error) {
	f, err := s.store.FileByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if f.OwnerID != actor.ID || f.ContactID != 0 {
		if f.ConversationID == 0 {
			// An unsent upload is private, unless it is its owner's
			// profile photo, which everyone signed in may see.
			owner, err := s.store.UserByID(ctx, f.OwnerID)
			if err != nil || owner.PhotoFileID != f.ID {
				return nil, nil, parley.Errorf(parley.ENOTFOUND, "file not found")
			}
		} else if s.readable(ctx, f.ConversationID, actor) != nil {
			return nil, nil, parley.Errorf(parley.ENOTFOUND, "file not found")
		}
	}
	return s.Open(ctx, f, thumb)
}

// readable is the rule for reading a conversation: its members, and the
// staff of a support dialog (canView); anyone else gets its member error.
func (s *Service) readable(ctx context.Context, convID int64, actor *parley.User) error {
	_, _, err := member(ctx, s.store, convID, actor.ID)
	if err != nil && s.canView(ctx, convID, actor) {
		return nil
	}
	return err
}

// canView reports whether a non-member may read a conversation: the staff
// of a support dialog.
func (s *Service) canView(ctx context.Context, convID int64, actor *parley.User) bool {
	c, err := s.store.ConversationByID(ctx, convID)
	if err != nil || c.Support == nil || s.support == nil {
		return false
	}
	ok, err := s.support.CanView(ctx, c, actor)
	return err == nil && ok
}

// Open reads a stored file, or its preview, for a caller that has checked
// access.
func (s *Service) Open(ctx context.Context, f *parley.File, thumb bool) (*parley.File, io.ReadCloser, error) {
	key := f.BlobKey()
	if thumb {
		if !f.HasThumb {
			return nil, nil, parley.Errorf(parley.ENOTFOUND, "this file has no preview")
		}
		key = f.ThumbKey()
	}
	rc, _, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if thumb {
		f.ContentType = "image/jpeg"
	}
	return f, rc, nil
}

// CopyFile makes a new unsent upload of the actor's from a file they can
// read (seed 003: an attachment re-sent into the chat), so that the copy
// is theirs to send and the original stays with its message.
func (s *Service) CopyFile(ctx context.Context, actor *parley.User, id int64) (*parley.File, error) {
	f, rc, err := s.Download(ctx, actor, id, false)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return s.upload(ctx, &parley.File{OwnerID: actor.ID}, f.Name, f.ContentType, f.Size, rc, nil)
}
