/* GstPushSource: DirectShow's IAMPushSource + IAMLatency as a GObject interface.
 *
 * The interface is registered by the `pushsource` plugin (libgstpushsource.so, written in Rust).
 * This header lets C elements implement it and C code call it. The layout of
 * GstPushSourceInterface matches `PushSourceInterface` in src/push_source.rs.
 *
 * gst_push_source_get_type() looks the type up by name and loads the plugin when needed, so
 * nothing links against libgstpushsource.so.
 */
#ifndef __GST_PUSH_SOURCE_H__
#define __GST_PUSH_SOURCE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Values are DirectShow's AM_PUSHSOURCE flags. The GType is "GstPushSourceFlags". */
typedef enum {
  GST_PUSH_SOURCE_FLAG_INTERNAL_RM = 0x1,
  GST_PUSH_SOURCE_FLAG_NOT_LIVE = 0x2,
  GST_PUSH_SOURCE_FLAG_PRIVATE_CLOCK = 0x4,
  GST_PUSH_SOURCE_FLAG_USE_STREAM_CLOCK = 0x10000,
  GST_PUSH_SOURCE_FLAG_USE_CLOCK_CHAIN = 0x20000,
} GstPushSourceFlags;

/* S_OK and S_FALSE of IAMPushSource::SetStreamOffset. The GType is "GstPushSourceOffsetResult". */
typedef enum {
  GST_PUSH_SOURCE_OFFSET_APPLIED = 0,
  GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM = 1,
} GstPushSourceOffsetResult;

typedef struct _GstPushSourceInterface {
  GTypeInterface parent;
  /* FALSE when the source cannot tell its latency. */
  gboolean (*get_latency) (GstElement * source, GstClockTime * latency);
  gint64 (*get_stream_offset) (GstElement * source);
  /* Applies the offset whatever its size; returns a GstPushSourceOffsetResult. */
  gint (*set_stream_offset) (GstElement * source, gint64 offset);
  GstClockTime (*get_max_stream_offset) (GstElement * source);
  void (*set_max_stream_offset) (GstElement * source, GstClockTime max_offset);
  guint (*get_push_source_flags) (GstElement * source);
  void (*set_push_source_flags) (GstElement * source, guint flags);
} GstPushSourceInterface;

static inline GType
gst_push_source_get_type (void)
{
  GType type = g_type_from_name ("GstPushSource");
  if (type == 0) {
    GstPlugin *plugin = gst_plugin_load_by_name ("pushsource");
    if (plugin)
      gst_object_unref (plugin);
    type = g_type_from_name ("GstPushSource");
  }
  return type;
}

#define GST_TYPE_PUSH_SOURCE (gst_push_source_get_type ())
#define GST_IS_PUSH_SOURCE(obj) (G_TYPE_CHECK_INSTANCE_TYPE ((obj), GST_TYPE_PUSH_SOURCE))
#define GST_PUSH_SOURCE_GET_INTERFACE(obj) \
    (G_TYPE_INSTANCE_GET_INTERFACE ((obj), GST_TYPE_PUSH_SOURCE, GstPushSourceInterface))

static inline gboolean
gst_push_source_get_latency (GstElement * source, GstClockTime * latency)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), FALSE);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  return iface->get_latency ? iface->get_latency (source, latency) : FALSE;
}

static inline gint64
gst_push_source_get_stream_offset (GstElement * source)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), 0);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  return iface->get_stream_offset ? iface->get_stream_offset (source) : 0;
}

static inline GstPushSourceOffsetResult
gst_push_source_set_stream_offset (GstElement * source, gint64 offset)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), GST_PUSH_SOURCE_OFFSET_APPLIED);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (!iface->set_stream_offset)
    return GST_PUSH_SOURCE_OFFSET_APPLIED;
  return (GstPushSourceOffsetResult) iface->set_stream_offset (source, offset);
}

static inline GstClockTime
gst_push_source_get_max_stream_offset (GstElement * source)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), 0);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  return iface->get_max_stream_offset ? iface->get_max_stream_offset (source) : 0;
}

static inline void
gst_push_source_set_max_stream_offset (GstElement * source, GstClockTime max_offset)
{
  GstPushSourceInterface *iface;

  g_return_if_fail (GST_IS_PUSH_SOURCE (source));
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->set_max_stream_offset)
    iface->set_max_stream_offset (source, max_offset);
}

static inline guint
gst_push_source_get_push_source_flags (GstElement * source)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), 0);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  return iface->get_push_source_flags ? iface->get_push_source_flags (source) : 0;
}

static inline void
gst_push_source_set_push_source_flags (GstElement * source, guint flags)
{
  GstPushSourceInterface *iface;

  g_return_if_fail (GST_IS_PUSH_SOURCE (source));
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->set_push_source_flags)
    iface->set_push_source_flags (source, flags);
}

G_END_DECLS

#endif /* __GST_PUSH_SOURCE_H__ */
