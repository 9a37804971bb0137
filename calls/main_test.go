package calls_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }
