// Placeholder until the PhotosAPI client lands.
import Testing
