package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// Services that take a reply's files by URL (Twilio's MMS, Instagram)
// fetch them from a link only they know: the file's id and an expiry,
// signed with a key every node shares.

const linkKey = "channels.link_secret"

// linkTTL is how long a file link works: long enough for a service that
// retries its fetch, short enough that a leaked link dies.
const linkTTL = 24 * time.Hour

// loadKey reads the links' signing key, creating it on first start.
func (s *Service) loadKey(ctx context.Context) error {
	var key string
	if err := s.store.Setting(ctx, linkKey, &key); err != nil {
		return err
	}
	if key == "" {
		_, err := s.store.Write(ctx, func(tx parley.Tx) error {
			if err := tx.Setting(ctx, linkKey, &key); err != nil || key != "" {
				return err
			}
			key = randomHex(32)
			return tx.PutSetting(ctx, linkKey, key)
		})
		if err != nil {
			return err
		}
	}
	b, err := hex.DecodeString(key)
	s.key = b
	return err
}

func (s *Service) linkSig(chID, fileID, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strconv.FormatInt(chID, 10) + "/" + strconv.FormatInt(fileID, 10) + "/" + strconv.FormatInt(exp, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// fileURL is the link a channel's service fetches a reply's file from
// ("" without a public URL: nobody outside could reach it).
func (s *Service) fileURL(ch *parley.Channel, f *parley.File) string {
	if s.cfg.PublicURL == "" {
		return ""
	}
	exp := s.now().Add(linkTTL).Unix()
	return s.cfg.PublicURL + "/api/v1/channels/" + strconv.FormatInt(ch.ID, 10) + "/files/" + strconv.FormatInt(f.ID, 10) +
		"?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + s.linkSig(ch.ID, f.ID, exp)
}

// OpenFile serves a file link: a file sent in one of the channel's
// dialogs, while the link has not expired. Any other link is ENOTFOUND,
// saying nothing of why.
func (s *Service) OpenFile(ctx context.Context, chID, fileID int64, exp, sig string) (*parley.File, io.ReadCloser, error) {
	notFound := parley.Errorf(parley.ENOTFOUND, "file not found")
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || s.now().Unix() > e || !hmac.Equal([]byte(sig), []byte(s.linkSig(chID, fileID, e))) {
		return nil, nil, notFound
	}
	f, err := s.store.FileByID(ctx, fileID)
	if err != nil {
		return nil, nil, notFound
	}
	c, err := s.store.ConversationByID(ctx, f.ConversationID)
	if err != nil || c.Support == nil || c.Support.ChannelID != chID {
		return nil, nil, notFound
	}
	return s.msgs.Open(ctx, f, false)
}
