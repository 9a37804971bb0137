package main

import "github.com/parley-chat/parley/linkpreview"

// linkPreviews is the link preview fetcher the configuration asks for, or
// nil when previews are off.
func linkPreviews(cfg Config) *linkpreview.Client {
	if !cfg.LinkPreviews {
		return nil
	}
	return linkpreview.NewClient(linkpreview.Config{Allow: cfg.previewAllow})
}
