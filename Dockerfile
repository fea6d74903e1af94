# weir: a multi-stage Debian 12 image. The build stage compiles the binary
# against Debian's librdkafka, avro-c, OpenBLAS, libuv and jansson; the runtime
# stage carries the binary, their runtime libraries, the schemas and the
# example model and config (under /usr/share/weir).
#
#   docker build -t weir .
#   docker run --rm weir version
#   docker run --rm -p 9464:9464 weir run -c /usr/share/weir/examples/weir.conf \
#       -X kafka.bootstrap.servers=broker:9092 -X http.listen=0.0.0.0:9464

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      librdkafka-dev libavro-dev libopenblas-dev libuv1-dev libjansson-dev zlib1g-dev \
      libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEIR_TESTS=OFF \
 && ninja -C /build weir \
 && strip /build/weir

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libavro23 libopenblas0-pthread libuv1 libjansson4 zlib1g libcurl4 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/weir /usr/local/bin/weir
COPY schemas/*.avsc /usr/share/weir/schemas/
COPY examples/weir.conf examples/model.json /usr/share/weir/examples/
USER nobody
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s CMD curl -sf http://127.0.0.1:9464/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/weir"]
CMD ["run", "-c", "/usr/share/weir/examples/weir.conf", "-X", "http.listen=0.0.0.0:9464"]
