// Command vulndb builds the offline vulnerability database that `make lint`
// hands to govulncheck: vulndb -osv <x/vulndb module>/data/osv -out DIR.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/razorbill/razorbill/internal/vulndb"
)

func main() {
	src := flag.String("osv", "", "folder of OSV reports (GO-YYYY-NNNN.json)")
	out := flag.String("out", "", "folder to write the database to (replaced)")
	flag.Parse()
	if *src == "" || *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: vulndb -osv DIR -out DIR")
		os.Exit(2)
	}
	n, err := vulndb.Build(*src, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("vulndb: %d reports from %s -> %s\n", n, *src, *out)
}
