// phashref prints goimagehash v1.1.0's PerceptionHash of each PNG named on the command line,
// one line per file: "<path> <16 lowercase hex digits>" or "<path> error: <message>".
// With -dct it prints the 63 DCT constants (Go math.Cos) as float64 bit patterns instead.
// With -describe it adds, after the hash, the decoded Go image type, its size, and the SHA-256
// of every pixel's At(x, y).RGBA() written as four big-endian uint16s, row by row.
package main

import (
	"crypto/sha256"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"

	"github.com/corona10/goimagehash"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-dct" {
		// Same expressions as goimagehash transforms/static.go (dct64 .. dct2).
		for _, n := range []int{64, 32, 16, 8, 4, 2} {
			for i := 0; i < n/2; i++ {
				v := math.Cos((float64(i)+0.5)*math.Pi/float64(n)) * 2
				fmt.Printf("%d %d %016x\n", n, i, math.Float64bits(v))
			}
		}
		return
	}
	describe := len(os.Args) > 1 && os.Args[1] == "-describe"
	paths := os.Args[1:]
	if describe {
		paths = paths[1:]
	}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			fmt.Printf("%s error: %v\n", path, err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			fmt.Printf("%s error: %v\n", path, err)
			continue
		}
		h, err := goimagehash.PerceptionHash(img)
		if err != nil {
			fmt.Printf("%s error: %v\n", path, err)
			continue
		}
		if describe {
			fmt.Printf("%s %016x %T %dx%d %x\n", path, h.GetHash(), img, img.Bounds().Dx(), img.Bounds().Dy(), pixelDigest(img))
		} else {
			fmt.Printf("%s %016x\n", path, h.GetHash())
		}
	}
}

func pixelDigest(img image.Image) []byte {
	d := sha256.New()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			d.Write([]byte{byte(r >> 8), byte(r), byte(g >> 8), byte(g), byte(bl >> 8), byte(bl), byte(a >> 8), byte(a)})
		}
	}
	return d.Sum(nil)
}
