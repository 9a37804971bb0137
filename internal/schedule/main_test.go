package schedule

import (
	"testing"

	"github.com/parley-chat/parley/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }
