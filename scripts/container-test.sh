#!/usr/bin/env bash
# The container lane of CI (called by .ci/run after the test suite): builds the image from the
# Containerfile, runs it, and brings up compose.distributed.yaml, on this machine, as root.
#
# Only the package registries (Debian, PyPI) can be reached from the CI machines, no image
# registry: the base image is bootstrapped from Debian with mmdebstrap (cached as a file in
# $PRESSESCHAU_CONTAINER_CACHE, default /var/cache/presseschau-ci), and PostgreSQL, Redis and nginx
# are Debian's packages on that base (scripts/container-ci/), standing in for the public images
# the compose files name by default. What these machines need and others do not stays in this
# script, never in the Containerfile: a containers.conf (runc, ulimits) and, in the base, the
# host's CA certificates (HTTPS is re-signed by a local CA here) with pip pointed at them.
#
# Checks: the image serves /healthz, a German article page and /presseschau/ on a loopback port
# (engine `memory`: no model can be downloaded here); the distributed compose file runs web,
# worker, beat, builder, PostgreSQL, Redis and nginx, and one sample imported into it is translated
# and published by a worker and served through nginx. Everything it started is removed by ID at the
# end, also on failure. Prints its timings.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

if [ "$(id -u)" != 0 ]; then
  echo "container-test: run as root (podman, mmdebstrap)" >&2
  exit 1
fi

STARTED=$SECONDS
TIMINGS=()
STEP_STARTED=$SECONDS
step() { STEP_STARTED=$SECONDS; echo "== container-test: $*"; }
done_step() { TIMINGS+=("$(printf '%-34s %4d s' "$1" $((SECONDS - STEP_STARTED)))"); }

CACHE=${PRESSESCHAU_CONTAINER_CACHE:-/var/cache/presseschau-ci}
RUN_ID=ci$$
WORK=$(mktemp -d "/tmp/presseschau-container-test.XXXXXX")
PROJECT=presseschau-$RUN_ID
IMAGE=localhost/presseschau:$RUN_ID
CONTAINERS=()  # IDs of everything started here, removed by ID in cleanup
export CONTAINERS_CONF=$WORK/containers.conf
cat > "$CONTAINERS_CONF" <<'EOF'
# crun fails on setrlimit and on hybrid cgroups on the CI machines; runc works.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF

project_containers() { podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT" 2>/dev/null || true; }

cleanup() {
  local status=$?
  trap - EXIT
  set +e
  echo "== container-test: cleaning up"
  if [ $status -ne 0 ]; then
    for id in "${CONTAINERS[@]}" $(project_containers); do
      echo "--- logs of $(podman inspect --format '{{.Name}}' "$id" 2>/dev/null) ($id)"
      podman logs --tail 30 "$id" 2>&1
    done
  fi
  for id in "${CONTAINERS[@]}" $(project_containers); do
    podman rm --force --time 5 "$id" >/dev/null 2>&1
  done
  for volume in $(podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT" 2>/dev/null) \
                "${SMOKE_VOLUME:-}"; do
    [ -n "$volume" ] && podman volume rm --force "$volume" >/dev/null 2>&1
  done
  podman network rm --force "${PROJECT}_default" >/dev/null 2>&1
  podman rmi --force "$IMAGE" >/dev/null 2>&1
  rm -rf "$WORK"
  rm -f "${BASE_PARTIAL:-}"
  echo "== container-test timings"
  printf '  %s\n' "${TIMINGS[@]}"
  printf '  %-34s %4d s\n' "total" $((SECONDS - STARTED))
  if [ $status -eq 0 ]; then
    echo "== container-test: passed"
  else
    echo "== container-test: FAILED (exit status $status); the logs of its containers are above" >&2
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- tools ---------------------------------------------------------------------------------------
step "tools"
need=()
command -v podman >/dev/null || need+=(podman)
command -v podman-compose >/dev/null || need+=(podman-compose)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v runc >/dev/null || need+=(runc)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "   installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
done_step "tools"

# --- base image: Debian bookworm with python3, bootstrapped once and kept as a file ---------------
step "base image"
CA_DIR=/usr/local/share/ca-certificates
BASE_KEY=$( { echo "bookworm python3 python3-venv ca-certificates v1"; cat "$CA_DIR"/* 2>/dev/null; } \
  | sha256sum | cut -c1-16)
BASE_TAR=$CACHE/base-bookworm-$BASE_KEY.tar
BASE_PARTIAL=$CACHE/.partial-$RUN_ID.tar  # a file (--format=tar): a kill leaves no chroot behind
BASE_IMAGE=localhost/presseschau-ci-base:$BASE_KEY
if ! podman image exists "$BASE_IMAGE"; then
  if [ ! -s "$BASE_TAR" ]; then
    mkdir -p "$CACHE"
    echo "   bootstrapping $BASE_TAR with mmdebstrap"
    mmdebstrap --quiet --variant=apt --include=python3,python3-venv,ca-certificates \
      --customize-hook='mkdir -p "$1/usr/local/share/ca-certificates"' \
      --customize-hook="copy-in $CA_DIR/. /usr/local/share/ca-certificates/" \
      --customize-hook='chroot "$1" update-ca-certificates >/dev/null 2>&1' \
      --customize-hook='printf "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n" > "$1/etc/pip.conf"' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
      --format=tar bookworm "$BASE_PARTIAL" http://deb.debian.org/debian
    mv "$BASE_PARTIAL" "$BASE_TAR"
  fi
  podman import --quiet --change 'CMD ["/bin/bash"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi
done_step "base image (cached: $(basename "$BASE_TAR"))"

# --- stand-ins for the public PostgreSQL, Redis and nginx images ----------------------------------
step "service images"
SERVICES_KEY=$(cat scripts/container-ci/* | sha256sum | cut -c1-12)
SERVICES_IMAGE=localhost/presseschau-ci-services:$BASE_KEY-$SERVICES_KEY
if ! podman image exists "$SERVICES_IMAGE"; then
  podman build --quiet --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$SERVICES_IMAGE" \
    -f scripts/container-ci/services.Containerfile scripts/container-ci >/dev/null
fi
role_image() {  # name, then the CMD as JSON
  printf 'FROM %s\nCMD %s\n' "$SERVICES_IMAGE" "$2" \
    | podman build --quiet -t "localhost/presseschau-ci-$1:$BASE_KEY-$SERVICES_KEY" -f - "$WORK" >/dev/null
  echo "localhost/presseschau-ci-$1:$BASE_KEY-$SERVICES_KEY"
}
export POSTGRES_IMAGE REDIS_IMAGE NGINX_IMAGE
POSTGRES_IMAGE=$(role_image postgres '["/usr/local/bin/postgres-entrypoint.sh"]')
REDIS_IMAGE=$(role_image redis '["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", ""]')
NGINX_IMAGE=$(role_image nginx '["nginx", "-g", "daemon off;"]')
done_step "service images"

# --- the presseschau image ----------------------------------------------------------------------
step "build $IMAGE"
podman build --quiet --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" -f Containerfile . >/dev/null
SIZE_MB=$(( $(podman image inspect --format '{{.Size}}' "$IMAGE") / 1000000 ))
BASE_MB=$(( $(podman image inspect --format '{{.Size}}' "$BASE_IMAGE") / 1000000 ))
echo "   image size: $SIZE_MB MB (base $BASE_MB MB)"
done_step "build image ($SIZE_MB MB)"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # URL, seconds: until it answers 2xx
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "   no answer from $1 within $2 s" >&2; return 1; fi
    sleep 0.5
  done
}
expect_in() {  # URL, text: the page is 200 and contains the text
  local body
  body=$(curl -fsS --max-time 10 "$1") || { echo "   $1 did not answer 200" >&2; return 1; }
  grep -qF -- "$2" <<<"$body" || { echo "   $1 lacks \"$2\"" >&2; return 1; }
}
sample_article_path() {  # base URL: the path of the flood-barrier sample's German page, from the home page
  { curl -fsS --max-time 10 "$1/" | grep -o 'href="/[^"/]*sperrwerk[^"/]*/"' | head -1 | cut -d'"' -f2; } || true
}

# --- smoke test: the image alone ------------------------------------------------------------------
step "smoke test"
PORT=$(free_port)
SMOKE_VOLUME=presseschau-smoke-$RUN_ID
podman volume create "$SMOKE_VOLUME" >/dev/null
RUN_STARTED=$(date +%s.%N)
# Not scheduled (that needs systemd here); `podman healthcheck run` below runs the image's check.
CONTAINERS+=("$(podman run -d --health-interval disable -p "127.0.0.1:$PORT:8000" -v "$SMOKE_VOLUME:/data" \
  "$IMAGE" run --engine memory 2>"$WORK/run.err")") || { cat "$WORK/run.err"; exit 1; }
wait_for "http://127.0.0.1:$PORT/healthz" 90
START_S=$(python3 -c "import time; print(f'{time.time() - $RUN_STARTED:.1f}')")
echo "   /healthz answered $START_S s after podman run"
podman exec "${CONTAINERS[-1]}" presseschau demo --engine memory --no-serve >"$WORK/demo.log" 2>&1 \
  || { cat "$WORK/demo.log"; exit 1; }
expect_in "http://127.0.0.1:$PORT/healthz" '"status":"ok"'
ARTICLE=$(sample_article_path "http://127.0.0.1:$PORT")
[ -n "$ARTICLE" ] || { echo "   no article link on the home page" >&2; exit 1; }
expect_in "http://127.0.0.1:$PORT$ARTICLE" '<html lang="de"'
expect_in "http://127.0.0.1:$PORT$ARTICLE" 'Sperrwerk'
expect_in "http://127.0.0.1:$PORT/presseschau/" 'Presseschau'
expect_in "http://127.0.0.1:$PORT/api/v1/docs" 'docs-assets/swagger-ui-bundle.js'
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/favicon.ico"
podman healthcheck run "${CONTAINERS[-1]}" >/dev/null || { echo "   the image's HEALTHCHECK failed" >&2; exit 1; }
[ "$(podman exec "${CONTAINERS[-1]}" id -u)" != 0 ] || { echo "   the container runs as root" >&2; exit 1; }
echo "   $ARTICLE, /presseschau/, /api/v1/docs, /favicon.ico and the HEALTHCHECK: ok"
done_step "smoke test (up in $START_S s)"

# --- distributed: compose.distributed.yaml with PostgreSQL and Redis -------------------------------
step "compose.distributed.yaml"
mkdir -p "$WORK/compose/secrets"
cp compose.distributed.yaml "$WORK/compose/"
mkdir -p "$WORK/compose/deploy" && cp -r deploy/nginx "$WORK/compose/deploy/"
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
printf '%s\n' "$PASSWORD" > "$WORK/compose/secrets/postgres_password"
printf 'postgresql+psycopg://presseschau:%s@db/presseschau\n' "$PASSWORD" > "$WORK/compose/secrets/database_url"
chmod 0644 "$WORK/compose/secrets/"*  # read by the app's unprivileged user through the bind mount
WEB_PORT=$(free_port)
compose() {
  (cd "$WORK/compose" && PRESSESCHAU_IMAGE=$IMAGE PRESSESCHAU_ENGINE=memory PRESSESCHAU_PUBLISH_PORT=$WEB_PORT \
    PRESSESCHAU_BASE_URL=http://127.0.0.1:$WEB_PORT podman-compose -p "$PROJECT" -f compose.distributed.yaml "$@")
}
compose up -d --no-build >"$WORK/compose-up.log" 2>&1 || { cat "$WORK/compose-up.log"; exit 1; }
mapfile -t started < <(project_containers)
CONTAINERS+=("${started[@]}")
echo "   ${#started[@]} containers up"
wait_for "http://127.0.0.1:$WEB_PORT/healthz" 150
expect_in "http://127.0.0.1:$WEB_PORT/healthz" '"database":true'
service_container() {  # the running container of one compose service
  podman ps -q --filter "label=io.podman.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1"
}
web=$(service_container web)
# One sample into the shared database: its German version into the translation memory (what the
# `memory` engine translates with), the English page as a new article; a worker does the rest.
SAMPLE=$(podman exec "$web" python3 -c '
from presseschau.app import AppContext
from presseschau.pipeline.demo import load_samples, memory_pairs
from presseschau.translate.memory import TranslationMemory
context = AppContext.for_data_dir(None)
sample = load_samples()[0]
TranslationMemory(context.database, "en", "de").import_pairs(memory_pairs([sample]), origin="import")
print(sample.english, sample.url)')
read -r SAMPLE_FILE SAMPLE_URL <<<"$SAMPLE"
podman exec "$web" presseschau import "$SAMPLE_FILE" --url "$SAMPLE_URL" >/dev/null
deadline=$((SECONDS + 120))
until curl -fsS "http://127.0.0.1:$WEB_PORT/healthz" | grep -q '"published":1'; do
  [ $SECONDS -lt $deadline ] || { echo "   the sample was not published within 120 s" >&2; exit 1; }
  sleep 1
done
# The web container runs `run` with a broker URL, which serves only: the workers did the work.
podman logs "$web" 2>&1 | grep -q "serving the site only" \
  || { echo "   the web container does not say it leaves the stages to the workers" >&2; exit 1; }
# The article's address from the app's own home page (nginx serves the static home page, which the
# builder refreshes only every minute); the page itself then through nginx, built or not.
ARTICLE=$(podman exec "$web" python3 -c '
import re, urllib.request
home = urllib.request.urlopen("http://127.0.0.1:8000/", timeout=10).read().decode()
print(next(iter(re.findall(r"href=\"(/[^\"/]*sperrwerk[^\"/]*/)\"", home)), ""))')
[ -n "$ARTICLE" ] || { echo "   no link to the sample on the app's home page" >&2; exit 1; }
expect_in "http://127.0.0.1:$WEB_PORT$ARTICLE" 'Sperrwerk'
expect_in "http://127.0.0.1:$WEB_PORT/presseschau/" 'Presseschau'
db=$(service_container db)
stored=$(podman exec "$db" /usr/lib/postgresql/15/bin/psql -h /run/postgresql -U presseschau -d presseschau -tAc \
  "SELECT count(*) FROM publications WHERE status = 'published'")
[ "$stored" = 1 ] || { echo "   PostgreSQL holds $stored published articles, expected 1" >&2; exit 1; }
echo "   imported $SAMPLE_URL; a worker translated and published it; nginx serves $ARTICLE"
done_step "compose.distributed.yaml"
