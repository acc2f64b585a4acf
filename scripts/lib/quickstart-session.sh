# Sourced by scripts/quickstart: one real client session against the emulator at $1 (binaries in $2, scratch in $3).
# Writes a small JPEG with a GPS position in its EXIF to $1.
make_demo_jpeg() {
  python3 - "$1" <<'PY'
import struct, sys
def ifd(entries, next_off=0):
    out = struct.pack('>H', len(entries))
    for tag, typ, count, value in entries: out += struct.pack('>HHI', tag, typ, count) + value
    return out + struct.pack('>I', next_off)
# TIFF header, IFD0 with a GPSInfo pointer, GPS IFD with a latitude reference.
gps_off = 8 + 2 + 12 + 4
tiff = b'MM\x00\x2a' + struct.pack('>I', 8) + ifd([(0x8825, 4, 1, struct.pack('>I', gps_off))])
tiff += ifd([(0x0001, 2, 2, b'N\x00\x00\x00')])
app1 = b'Exif\x00\x00' + tiff
sof = b'\xff\xc0\x00\x11\x08' + struct.pack('>HH', 480, 640) + b'\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01'
data = b'\xff\xd8' + b'\xff\xe1' + struct.pack('>H', len(app1) + 2) + app1 + sof + b'\xff\xd9'
open(sys.argv[1], 'wb').write(data)
PY
}

run_session() {
  local base=$1 bin=$2 work=$3 json token album upload item size
  json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }

  echo "==> gphotosfs auth login --emulator $base   (the emulator mints the token: no browser, no Google account)"
  "$bin/gphotosfs" auth login --emulator "$base" --accounts-dir "$work/accounts" | sed 's/^/    /'
  echo "==> gphotosfs auth verify   (refresh the token, then one albums.list through the PhotosAPI client)"
  "$bin/gphotosfs" auth verify --accounts-dir "$work/accounts" | sed 's/^/    /'

  echo "==> the same API by hand with curl, as OAuth client 'quickstart'"
  (umask 077; curl -sf -X POST "$base/emulator/v1/tokens" -H 'Content-Type: application/json' \
      -d '{"clientId":"quickstart.apps.googleusercontent.com"}' | json 'd["access_token"]' >"$work/token")
  # The token stays in a 0600 file and reaches curl through a header file, never through argv.
  printf 'Authorization: Bearer %s\n' "$(cat "$work/token")" >"$work/auth-header"; chmod 600 "$work/auth-header"

  echo "==> albums.create 'Quick start'"
  album=$(curl -sf -X POST "$base/v1/albums" -H @"$work/auth-header" -H 'Content-Type: application/json' \
      -d '{"album":{"title":"Quick start"}}' | json 'd["id"]')
  echo "    album id ${album:0:24}…"

  echo "==> uploading demo.jpg (a JPEG with a GPS position in its EXIF)"
  make_demo_jpeg "$work/demo.jpg"
  upload=$(curl -sf -X POST "$base/v1/uploads" -H @"$work/auth-header" -H 'Content-Type: application/octet-stream' \
      -H 'X-Goog-Upload-Protocol: raw' -H 'X-Goog-Upload-File-Name: demo.jpg' --data-binary @"$work/demo.jpg")
  echo "    upload token ${upload:0:16}…"

  echo "==> mediaItems.batchCreate into the album"
  item=$(curl -sf -X POST "$base/v1/mediaItems:batchCreate" -H @"$work/auth-header" -H 'Content-Type: application/json' \
      -d "{\"albumId\":\"$album\",\"newMediaItems\":[{\"simpleMediaItem\":{\"uploadToken\":\"$upload\"}}]}" \
      | json 'd["newMediaItemResults"][0]["mediaItem"]["id"]')
  echo "    media item ${item:0:24}…"

  echo "==> mediaItems.search in the album"
  curl -sf -X POST "$base/v1/mediaItems:search" -H @"$work/auth-header" -H 'Content-Type: application/json' \
      -d "{\"albumId\":\"$album\"}" | json '"\n".join("    %s  %sx%s  %s" % (m["filename"], m["mediaMetadata"].get("width"), m["mediaMetadata"].get("height"), m["mimeType"]) for m in d["mediaItems"])'

  echo "==> downloading it with =d (as Google does, the location is stripped)"
  local url
  url=$(curl -sf "$base/v1/mediaItems/$item" -H @"$work/auth-header" | json 'd["baseUrl"]')
  curl -sf "$url=d" -o "$work/downloaded.jpg"
  size=$(wc -c <"$work/downloaded.jpg")
  if cmp -s "$work/demo.jpg" "$work/downloaded.jpg"; then echo "    $size bytes, identical to the upload"; else echo "    $size bytes; differs from the upload where the GPS data was"; fi

  echo "==> requests this session spent against the daily quota of 10,000"
  curl -sf "$base/emulator/v1/quota" | json '"    %d API requests, %d media requests" % (d["apiRequests"], d["mediaRequests"])'
  rm -f "$work/auth-header"
}
