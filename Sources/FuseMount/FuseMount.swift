// FuseMount: the thin libfuse3 low-level adapter over PhotosFS (STUB to be replaced).
import CFuse3
import PhotosFS

/// Mounts a PhotosFS with libfuse3.
public enum FuseMount {}
