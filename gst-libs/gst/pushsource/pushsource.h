/* GstPushSource: DirectShow's IAMPushSource + IAMLatency as a GObject interface.
 *
 * libgstpushsource-1.0 owns the interface (as libgstvideo owns GstVideoOverlay): it registers
 * the GstPushSource, GstPushSourceFlags and GstPushSourceOffsetResult types and exports the
 * methods below. C code links against it (pkg-config gstreamer-pushsource-1.0), other languages
 * reach it through its introspection data (namespace GstPushSource, version 1.0), and the
 * `pushsource` plugin implements it in Rust (src/push_source.rs binds this header).
 */
#ifndef __GST_PUSH_SOURCE_H__
#define __GST_PUSH_SOURCE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#ifndef GST_PUSH_SOURCE_API
#define GST_PUSH_SOURCE_API extern
#endif

/**
 * GstPushSourceFlags:
 * @GST_PUSH_SOURCE_FLAG_INTERNAL_RM: the source does its own rate matching: no renderer may
 *     match rates with it
 * @GST_PUSH_SOURCE_FLAG_NOT_LIVE: treat the source as not live: no latency equalization, no
 *     rate matching
 * @GST_PUSH_SOURCE_FLAG_PRIVATE_CLOCK: time stamps come from a clock the rest of the graph
 *     cannot see
 * @GST_PUSH_SOURCE_FLAG_USE_STREAM_CLOCK: time stamps come from the stream clock (reserved in
 *     DirectShow)
 * @GST_PUSH_SOURCE_FLAG_USE_CLOCK_CHAIN: the source uses a clock chain (reserved in DirectShow)
 *
 * DirectShow's AM_PUSHSOURCE flags, with their values.
 */
typedef enum {
  GST_PUSH_SOURCE_FLAG_INTERNAL_RM = 0x1,
  GST_PUSH_SOURCE_FLAG_NOT_LIVE = 0x2,
  GST_PUSH_SOURCE_FLAG_PRIVATE_CLOCK = 0x4,
  GST_PUSH_SOURCE_FLAG_USE_STREAM_CLOCK = 0x10000,
  GST_PUSH_SOURCE_FLAG_USE_CLOCK_CHAIN = 0x20000,
} GstPushSourceFlags;

/**
 * GstPushSourceOffsetResult:
 * @GST_PUSH_SOURCE_OFFSET_APPLIED: the offset is applied and within the maximum stream offset
 *     (S_OK)
 * @GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM: the offset is applied but exceeds the maximum stream
 *     offset: data may be lost unless something downstream buffers it (S_FALSE)
 *
 * What gst_push_source_set_stream_offset() did.
 */
typedef enum {
  GST_PUSH_SOURCE_OFFSET_APPLIED = 0,
  GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM = 1,
} GstPushSourceOffsetResult;

/**
 * GstPushSource:
 *
 * Opaque instance of an element that implements the interface.
 */
typedef struct _GstPushSource GstPushSource;
typedef struct _GstPushSourceInterface GstPushSourceInterface;

/**
 * GstPushSourceInterface:
 * @parent: the parent interface
 * @get_latency: writes the source's latency; returns %FALSE when the source cannot tell
 * @get_stream_offset: the stream offset in ns
 * @set_stream_offset: applies the offset whatever its size; returns a #GstPushSourceOffsetResult
 * @get_max_stream_offset: the maximum stream offset
 * @set_max_stream_offset: sets the maximum stream offset
 * @get_push_source_flags: the #GstPushSourceFlags
 * @set_push_source_flags: sets the #GstPushSourceFlags
 *
 * The vtable C elements fill in with G_IMPLEMENT_INTERFACE (GST_TYPE_PUSH_SOURCE, …). A
 * function left %NULL is not fatal: the methods answer as a source without latency, offset or
 * flags would. The functions take the element, and plain integers for the result and flags, so
 * that implementations written before the library existed still compile; the layout is stable.
 */
struct _GstPushSourceInterface {
  GTypeInterface parent;
  gboolean (*get_latency) (GstElement * source, GstClockTime * latency);
  gint64 (*get_stream_offset) (GstElement * source);
  gint (*set_stream_offset) (GstElement * source, gint64 offset);
  GstClockTime (*get_max_stream_offset) (GstElement * source);
  void (*set_max_stream_offset) (GstElement * source, GstClockTime max_offset);
  guint (*get_push_source_flags) (GstElement * source);
  void (*set_push_source_flags) (GstElement * source, guint flags);
};

#define GST_TYPE_PUSH_SOURCE (gst_push_source_get_type ())
#define GST_PUSH_SOURCE(obj) \
    (G_TYPE_CHECK_INSTANCE_CAST ((obj), GST_TYPE_PUSH_SOURCE, GstPushSource))
#define GST_IS_PUSH_SOURCE(obj) (G_TYPE_CHECK_INSTANCE_TYPE ((obj), GST_TYPE_PUSH_SOURCE))
#define GST_PUSH_SOURCE_GET_INTERFACE(obj) \
    (G_TYPE_INSTANCE_GET_INTERFACE ((obj), GST_TYPE_PUSH_SOURCE, GstPushSourceInterface))

#define GST_TYPE_PUSH_SOURCE_FLAGS (gst_push_source_flags_get_type ())
#define GST_TYPE_PUSH_SOURCE_OFFSET_RESULT (gst_push_source_offset_result_get_type ())

GST_PUSH_SOURCE_API
GType gst_push_source_get_type (void);

GST_PUSH_SOURCE_API
GType gst_push_source_flags_get_type (void);

GST_PUSH_SOURCE_API
GType gst_push_source_offset_result_get_type (void);

GST_PUSH_SOURCE_API
gboolean gst_push_source_get_latency (GstPushSource * source, GstClockTime * latency);

GST_PUSH_SOURCE_API
gint64 gst_push_source_get_stream_offset (GstPushSource * source);

GST_PUSH_SOURCE_API
GstPushSourceOffsetResult gst_push_source_set_stream_offset (GstPushSource * source,
    gint64 offset);

GST_PUSH_SOURCE_API
GstClockTime gst_push_source_get_max_stream_offset (GstPushSource * source);

GST_PUSH_SOURCE_API
void gst_push_source_set_max_stream_offset (GstPushSource * source, GstClockTime max_offset);

GST_PUSH_SOURCE_API
GstPushSourceFlags gst_push_source_get_push_source_flags (GstPushSource * source);

GST_PUSH_SOURCE_API
void gst_push_source_set_push_source_flags (GstPushSource * source, GstPushSourceFlags flags);

G_END_DECLS

#endif /* __GST_PUSH_SOURCE_H__ */
