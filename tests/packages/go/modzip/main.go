// Command modzip writes one version of a Go module into a directory laid out
// as a module proxy (GOPROXY=file://DIR): @v/list, @v/VERSION.info,
// @v/VERSION.mod and @v/VERSION.zip, the zip made by golang.org/x/mod/zip
// (the go command's own rules: the module@version/ prefix, no nested modules,
// no vendor trees, size limits).
//
//	modzip -proxy DIR -module PATH -version vX.Y.Z -dir MODULE_DIR
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	proxy := flag.String("proxy", "", "the proxy directory to write into")
	path := flag.String("module", "", "the module path")
	version := flag.String("version", "", "the version, vX.Y.Z")
	dir := flag.String("dir", "", "the module's directory (holds go.mod)")
	flag.Parse()
	if *proxy == "" || *path == "" || *version == "" || *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	mv := module.Version{Path: *path, Version: *version}
	if err := module.Check(mv.Path, mv.Version); err != nil {
		log.Fatal(err)
	}
	escaped, err := module.EscapePath(mv.Path)
	if err != nil {
		log.Fatal(err)
	}
	at := filepath.Join(*proxy, escaped, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		log.Fatal(err)
	}
	out, err := os.Create(filepath.Join(at, mv.Version+".zip"))
	if err != nil {
		log.Fatal(err)
	}
	if err := zip.CreateFromDir(out, mv, *dir); err != nil {
		log.Fatal(err)
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(*dir, "go.mod"))
	if err != nil {
		log.Fatal(err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mv.Version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		log.Fatal(err)
	}
	for name, data := range map[string][]byte{
		mv.Version + ".mod":  gomod,
		mv.Version + ".info": info,
		"list":               []byte(mv.Version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
