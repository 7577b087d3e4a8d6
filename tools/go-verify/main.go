// Command go-verify checks a Stele log exported with `stele export` using
// only Go's reference code for transparency logs, golang.org/x/mod/sumdb/tlog
// and golang.org/x/mod/sumdb/note, and none of Stele's: a second, independent
// implementation an auditor can read in one sitting.
//
// Usage:
//
//	go-verify [-old CHECKPOINT] DIR VKEY
//
// DIR holds the export (checkpoint, tile/..., tile/entries/...), in the C2SP
// tlog-tiles layout; VKEY is the log's verifier key (name+hash+key), or a
// file holding it. It checks, in order:
//
//   - the checkpoint's signature, with note.Open: a note that VKEY did not
//     sign is refused, signatures by other keys are ignored;
//   - the checkpoint's body (C2SP tlog-checkpoint: origin, size, root);
//   - every entry bundle, in order: each entry's RFC 6962 leaf hash
//     (tlog.RecordHash), the tree built from them (tlog.StoredHashes), and its
//     root (tlog.TreeHash), which must be the checkpoint's; a bundle must hold
//     exactly as many entries as its width;
//   - every hash tile of the tree, byte for byte against the
//     tile tlog.ReadTileData makes from those entries; when the entries do
//     not give the checkpoint's root, the first tile that disagrees names
//     the entries its hash covers, else it names the tile;
//   - inclusion proofs (tlog.ProveRecord, tlog.CheckRecord) for the first
//     and last entries and every 1,000th;
//   - with -old, an earlier checkpoint of the same log: its signature, then
//     a consistency proof (tlog.ProveTree, tlog.CheckTree) from it to this one.
//
// It prints one line and exits 0 when all holds, 1 on the first failure
// (naming it), 2 when it is called wrongly: a wrong number of arguments, a
// VKEY that is no key, a DIR that does not exist or holds no checkpoint
// file, or an -old file it cannot read (one line on stderr). Run it built,
// not with `go run`, which turns every exit status but 0 into 1.
//
// The tile paths are Go's (tlog.Tile.Path) without its height element, which
// C2SP tlog-tiles leaves out: Go's tile/8/0/x001/234/067 is tile/0/x001/234/067
// here, and Go's data tiles tile/8/data/... are the entry bundles
// tile/entries/.... Go's tlog.ParseTree reads only the Go checksum database's
// own checkpoints (their origin line is fixed), so the three body lines are
// read here; the signature and every hash are Go's.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// height is the tile height of C2SP tlog-tiles.
const height = 8

func main() {
	old := flag.String("old", "", "an earlier checkpoint of the same log, to prove consistency from")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go-verify [-old CHECKPOINT] DIR VKEY")
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	dir := flag.Arg(0)
	verifier, err := readVerifier(flag.Arg(1))
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-verify: %v\n", err)
		os.Exit(2)
	}
	data, err := readCheckpoint(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-verify: %v\n", err)
		os.Exit(2)
	}
	var oldData []byte
	if *old != "" {
		oldData, err = os.ReadFile(*old)
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-verify: -old %s: %v\n", *old, reason(err))
			os.Exit(2)
		}
	}
	summary, err := check(dir, data, verifier, *old, oldData)
	if err != nil {
		fmt.Printf("FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("ok: %s\n", summary)
}

// readVerifier reads a verifier key given as itself or as a file holding it.
func readVerifier(arg string) (note.Verifier, error) {
	key := arg
	if !strings.Contains(arg, "+") {
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("VKEY %q is neither a verifier key (name+hash+key) nor a readable file: %v", arg, err)
		}
		key = strings.TrimSpace(string(data))
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("VKEY: %v", err)
	}
	return v, nil
}

// readCheckpoint reads the checkpoint file of the export in dir.
func readCheckpoint(dir string) ([]byte, error) {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("DIR %s does not exist", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("DIR %s: %v", dir, reason(err))
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("DIR %s is not a directory", dir)
	}
	path := filepath.Join(dir, "checkpoint")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("DIR %s holds no checkpoint file (not an export?)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, reason(err))
	}
	return data, nil
}

// reason is a file error without the path it names, for messages that name it.
func reason(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}

// checkpoint is a signed C2SP tlog-checkpoint, opened.
type checkpoint struct {
	origin string
	tree   tlog.Tree
}

// openCheckpoint verifies a checkpoint's signature and reads its body.
func openCheckpoint(data []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(data, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fmt.Errorf("signature: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return checkpoint{}, errors.New("body: fewer than three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("body: size %q is not a decimal number", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return checkpoint{}, fmt.Errorf("body: root %q: %v", lines[2], err)
	}
	return checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: root}}, nil
}

// check verifies the export in dir, whose checkpoint file holds data, and
// with oldPath, its consistency with the earlier checkpoint oldData; on
// success it says what it checked.
func check(dir string, data []byte, verifier note.Verifier, oldPath string, oldData []byte) (string, error) {
	cp, err := openCheckpoint(data, verifier)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %v", err)
	}
	tree := cp.tree
	stored, err := storedHashes(dir, tree.N)
	if err != nil {
		return "", err
	}
	root, err := tlog.TreeHash(tree.N, stored)
	if err != nil {
		return "", fmt.Errorf("tree: %v", err)
	}
	if err := checkTiles(dir, tree, stored, root); err != nil {
		return "", err
	}
	// Every tile is now known to be the entries' own: read them back through Go's tile reader.
	tiles := tlog.TileHashReader(tree, &tileDir{dir: dir})
	proofs, err := checkInclusion(tree, stored, tiles)
	if err != nil {
		return "", err
	}
	summary := fmt.Sprintf("%s: %s, root %v; every entry bundle and tile matches it; %s", cp.origin, plural(tree.N, "entry", "entries"), tree.Hash, plural(int64(proofs), "inclusion proof holds", "inclusion proofs hold"))
	if oldPath == "" {
		return summary, nil
	}
	old, err := openCheckpoint(oldData, verifier)
	if err != nil {
		return "", fmt.Errorf("old checkpoint %s: %v", oldPath, err)
	}
	if old.origin != cp.origin {
		return "", fmt.Errorf("old checkpoint %s: origin %q, this log's is %q", oldPath, old.origin, cp.origin)
	}
	if old.tree.N > tree.N {
		return "", fmt.Errorf("old checkpoint %s: size %d is larger than this log's %d (rolled back?)", oldPath, old.tree.N, tree.N)
	}
	if old.tree.N == 0 {
		// Every log extends the empty one; tlog proves nothing from size 0, so its root is checked here (RFC 6962: SHA-256 of nothing).
		if old.tree.Hash != tlog.Hash(sha256.Sum256(nil)) {
			return "", fmt.Errorf("old checkpoint %s: size 0, but its root %v is not the empty tree's", oldPath, old.tree.Hash)
		}
		return fmt.Sprintf("%s; consistent with the checkpoint at size 0", summary), nil
	}
	proof, err := tlog.ProveTree(tree.N, old.tree.N, tiles)
	if err != nil {
		return "", fmt.Errorf("consistency with %s: %v", oldPath, err)
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.tree.N, old.tree.Hash); err != nil {
		return "", fmt.Errorf("consistency with %s (size %d): this log is not an extension of it (a fork, or history rewritten): %v", oldPath, old.tree.N, err)
	}
	return fmt.Sprintf("%s; consistent with the checkpoint at size %d", summary, old.tree.N), nil
}

// memoryHashes holds a tree's stored hashes, by tlog's stored-hash index.
type memoryHashes []tlog.Hash

func (m memoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// storedHashes reads every entry bundle in order and builds the tree of its
// entries with tlog.StoredHashes, as Go's checksum database stores it.
func storedHashes(dir string, size int64) (memoryHashes, error) {
	const full = 1 << height
	stored := make(memoryHashes, 0, tlog.StoredHashCount(size))
	for start := int64(0); start < size; start += full {
		width := size - start
		if width > full {
			width = full
		}
		bundle := tlog.Tile{H: height, L: -1, N: start / full, W: int(width)}
		data, err := os.ReadFile(filepath.Join(dir, c2spPath(bundle)))
		if err != nil {
			return nil, fmt.Errorf("entry bundle: %v", err)
		}
		entries, err := splitBundle(data)
		if err != nil {
			return nil, fmt.Errorf("entry bundle %s: %v", c2spPath(bundle), err)
		}
		if int64(len(entries)) != width {
			return nil, fmt.Errorf("entry bundle %s: %d entries, its width is %d", c2spPath(bundle), len(entries), width)
		}
		for i, entry := range entries {
			hashes, err := tlog.StoredHashes(start+int64(i), entry, stored)
			if err != nil {
				return nil, err
			}
			stored = append(stored, hashes...)
		}
	}
	return stored, nil
}

// checkTiles compares the root of the entries with the checkpoint's, then
// every hash tile of the export with the one tlog.ReadTileData makes from
// the entries, level 0 first. When the roots differ, the first tile that
// disagrees with the entries names the entries its differing hash covers:
// the tile holds what was signed, the entries do not give it. When the roots
// agree, the tile is named.
func checkTiles(dir string, tree tlog.Tree, stored memoryHashes, root tlog.Hash) error {
	for _, t := range tilesOf(tree.N) {
		want, err := tlog.ReadTileData(t, stored)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dir, c2spPath(t)))
		if err != nil {
			return fmt.Errorf("hash tile: %v", err)
		}
		if bytes.Equal(got, want) {
			continue
		}
		at := firstDifference(got, want) / tlog.HashSize
		if root != tree.Hash && t.L == 0 {
			entry := t.N<<height + int64(at)
			return fmt.Errorf("entry %d (in %s): its leaf hash is not the one %s holds, and the entries do not give the checkpoint's root", entry, c2spPath(tlog.Tile{H: height, L: -1, N: t.N, W: t.W}), c2spPath(t))
		}
		if root != tree.Hash {
			first, end := covered(t, at, tree.N)
			return fmt.Errorf("entries %d to %d (%s): their hash is not the one %s holds (hash %d), and the entries do not give the checkpoint's root", first, end-1, bundlesOf(first, end, tree.N), c2spPath(t), at)
		}
		return fmt.Errorf("hash tile %s: hash %d is not the one the entries give", c2spPath(t), at)
	}
	if root != tree.Hash {
		return fmt.Errorf("tree: the entries give root %v, the checkpoint %v", root, tree.Hash)
	}
	return nil
}

// covered is the range of entries [first, end) that hash k of tile t covers
// in a tree of the given size: a level-L hash covers 256^L entries.
func covered(t tlog.Tile, k int, size int64) (first, end int64) {
	span := int64(1) << (uint(t.L) * height)
	first = (t.N<<height + int64(k)) * span
	end = first + span
	if end > size {
		end = size
	}
	return first, end
}

// bundlesOf names the entry bundles that hold entries [first, end) of a tree
// of the given size.
func bundlesOf(first, end, size int64) string {
	from := c2spPath(bundleOf(first, size))
	to := c2spPath(bundleOf(end-1, size))
	if from == to {
		return "in " + from
	}
	return "in " + from + " to " + to
}

// bundleOf is the entry bundle that holds an entry of a tree of the given size.
func bundleOf(entry, size int64) tlog.Tile {
	const full = 1 << height
	n := entry / full
	width := size - n*full
	if width > full {
		width = full
	}
	return tlog.Tile{H: height, L: -1, N: n, W: int(width)}
}

// tilesOf lists the hash tiles of a tree of the given size, as tlog-tiles
// serves it: at each level, the full tiles and the one partial tile there is.
// (tlog.NewTiles also lists the partial tiles of every smaller size.)
func tilesOf(size int64) []tlog.Tile {
	const full = 1 << height
	var tiles []tlog.Tile
	for level := 0; size>>(uint(level)*height) > 0; level++ {
		count := size >> (uint(level) * height)
		for n := int64(0); n*full < count; n++ {
			width := count - n*full
			if width > full {
				width = full
			}
			tiles = append(tiles, tlog.Tile{H: height, L: level, N: n, W: int(width)})
		}
	}
	return tiles
}

// firstDifference is the first byte offset at which a and b differ.
func firstDifference(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) < len(b) {
		return len(a)
	}
	return len(b)
}

// splitBundle reads a C2SP entry bundle: each entry a big-endian uint16
// length, then that many bytes.
func splitBundle(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("ends inside an entry's length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, fmt.Errorf("entry %d is cut short", len(entries))
		}
		entries = append(entries, data[2:2+n])
		data = data[2+n:]
	}
	return entries, nil
}

// checkInclusion proves the inclusion of the first and last entries and
// every 1,000th from the export's tiles (tlog.ProveRecord) and checks each
// proof against the checkpoint's root (tlog.CheckRecord); it returns how many.
func checkInclusion(tree tlog.Tree, stored memoryHashes, tiles tlog.HashReader) (int, error) {
	count := 0
	for i := int64(0); i < tree.N; i++ {
		if i%1000 != 0 && i != tree.N-1 {
			continue
		}
		proof, err := tlog.ProveRecord(tree.N, i, tiles)
		if err != nil {
			return count, fmt.Errorf("inclusion of entry %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, i, stored[tlog.StoredHashIndex(0, i)]); err != nil {
			return count, fmt.Errorf("inclusion of entry %d: %v", i, err)
		}
		count++
	}
	return count, nil
}

// c2spPath is the C2SP tlog-tiles path of a tile: Go's without the height.
func c2spPath(t tlog.Tile) string {
	prefix := fmt.Sprintf("tile/%d/", t.H)
	path := t.Path()
	if !strings.HasPrefix(path, prefix) {
		panic("unexpected tile path " + path)
	}
	rest := strings.TrimPrefix(path, prefix)
	if strings.HasPrefix(rest, "data/") {
		return "tile/entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

// tileDir reads hash tiles from an export's directory.
type tileDir struct{ dir string }

func (d *tileDir) Height() int { return height }

func (d *tileDir) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, a tile of width %d has %d", c2spPath(t), len(data), t.W, t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (d *tileDir) SaveTiles([]tlog.Tile, [][]byte) {}

// plural writes a count with its noun.
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
