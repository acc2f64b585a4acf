// PhotosAPI: the Google Photos Library and Picker API client (HTTP over libcurl, OAuth2, uploads, retries).
import CCurl
