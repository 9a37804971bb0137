package parley

import "time"

// LinkPreview is what a message's first web link shows under it: the
// page's title, description, site name and image, fetched by the server
// after the message was stored (clients never load the page or its image
// from its site).
type LinkPreview struct {
	URL         string `json:"url"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	SiteName    string `json:"site_name,omitempty"`
	// Image is the key of the page image's thumbnail, kept by Parley and
	// served at GET /api/v1/link-images/{key}; "" without one.
	Image string `json:"image,omitempty"`
	// Hidden is set when the sender removed the preview: clients show
	// none, and the link is not fetched again for that message.
	Hidden bool `json:"hidden,omitempty"`
}

// LinkImageKey is where a link preview's image thumbnail is stored.
func LinkImageKey(image string) string { return "link-images/" + image }

// CachedLinkPreview is a fetched page's preview as the cache keeps it: OK
// false records a page that had none (or could not be fetched), so it is
// not fetched again for every message that links it.
type CachedLinkPreview struct {
	Preview   LinkPreview `json:"preview"`
	OK        bool        `json:"ok"`
	FetchedAt time.Time   `json:"-"`
}

// Card kinds: the records a message can refer to with a card.
const (
	CardUser         = "user"
	CardContact      = "contact"
	CardCase         = "case"
	CardConversation = "conversation"
)

// CardRef is a message's reference to a record (a card): each reader's
// client asks for its summary, which says only what that reader may see.
type CardRef struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
}
