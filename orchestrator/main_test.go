package orchestrator

import (
	"testing"

	"appfactory/orchestrator/internal/enginetest"
)

func TestMain(m *testing.M) {
	enginetest.Main(m, "testdata/testserver")
}
