//go:build !race

package metafake_test

const raceOn = false
