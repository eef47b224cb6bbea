# The appfactory portal as an image. No base image is pulled: the binary is
# static (CGO_ENABLED=0, pure-Go SQLite), so it runs FROM scratch.
#
#   make build && docker build -t appfactory .
#   docker run -d --name appfactory --network host \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     -v appfactory-data:/data appfactory
#
# It uses the host's network because the router dials tenant containers on
# their own Docker networks (see DESIGN.md, "Dial containers").
FROM scratch
COPY bin/appfactory /appfactory
ENV APPFACTORY_DATA_DIR=/data APPFACTORY_ADDR=:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/appfactory"]
CMD ["serve"]
