//go:build race

package metafake_test

// raceOn: the race detector makes reading 100 MB through the fake take
// minutes, so the largest limit is checked only without it.
const raceOn = true
