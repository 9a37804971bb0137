package cards_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/leaktest"
)

// TestMain fails the tests if a goroutine outlives them.
func TestMain(m *testing.M) { leaktest.Main(m) }
